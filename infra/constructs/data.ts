import { RemovalPolicy } from 'aws-cdk-lib';
import {
  AttributeType,
  BillingMode,
  type ITable,
  ProjectionType,
  Table,
  TableEncryption,
} from 'aws-cdk-lib/aws-dynamodb';
import type { IKey } from 'aws-cdk-lib/aws-kms';
import { Construct } from 'constructs';
import {
  TABLE_DEFINITIONS,
  TABLES,
  type TableDefinition,
  type TableLogicalName,
  type TableNames,
} from '../../schemas/tables';

export interface DataProps {
  /** Use the existing legacy tables by their exact legacy names instead of creating them. */
  readonly adoptLegacyTables: boolean;
  /** Prefix of the names of the tables this construct creates. */
  readonly namePrefix: string;
  /** Set the TTL attribute of the table definitions on the tables created here. */
  readonly timeToLiveEnabled: boolean;
  /** The customer-managed key of the tables created here (adopted tables keep theirs). */
  readonly encryptionKey: IKey;
}

/** A table with the index names its grants may need (created or adopted). */
export interface DataTable {
  readonly definition: TableDefinition;
  readonly table: ITable;
  readonly tableName: string;
  readonly adopted: boolean;
}

/**
 * The tables, from the shared table definitions: on demand, point-in-time recovery, deletion
 * protection, the project's customer-managed key, retained when the stack goes. Legacy tables can be adopted by name instead (their
 * users keep their data); `claims` is new and always created.
 */
export class Data extends Construct {
  readonly tables: Readonly<Record<TableLogicalName, DataTable>>;
  readonly tableNames: TableNames;

  constructor(scope: Construct, id: string, props: DataProps) {
    super(scope, id);
    const entries = TABLE_DEFINITIONS.map((definition) => [
      definition.logicalName,
      definition.legacy && props.adoptLegacyTables
        ? this.#adopt(definition)
        : this.#create(definition, props),
    ]);
    this.tables = Object.fromEntries(entries) as Record<TableLogicalName, DataTable>;
    this.tableNames = Object.fromEntries(
      Object.keys(TABLES).map((name) => [name, this.tables[name as TableLogicalName].tableName]),
    ) as TableNames;
  }

  #adopt(definition: TableDefinition): DataTable {
    const table = Table.fromTableAttributes(this, constructId(definition), {
      tableName: definition.defaultName,
      globalIndexes: definition.globalSecondaryIndexes.map((index) => index.indexName),
    });
    return { definition, table, tableName: definition.defaultName, adopted: true };
  }

  #create(definition: TableDefinition, props: DataProps): DataTable {
    const tableName = `${props.namePrefix}${definition.defaultName}`;
    const table = new Table(this, constructId(definition), {
      tableName,
      partitionKey: { name: definition.partitionKey.name, type: AttributeType.STRING },
      ...(definition.sortKey
        ? { sortKey: { name: definition.sortKey.name, type: AttributeType.STRING } }
        : {}),
      billingMode: BillingMode.PAY_PER_REQUEST,
      pointInTimeRecoverySpecification: { pointInTimeRecoveryEnabled: true },
      deletionProtection: true,
      removalPolicy: RemovalPolicy.RETAIN,
      encryption: TableEncryption.CUSTOMER_MANAGED,
      encryptionKey: props.encryptionKey,
      ...(props.timeToLiveEnabled && definition.timeToLiveAttribute
        ? { timeToLiveAttribute: definition.timeToLiveAttribute }
        : {}),
    });
    for (const index of definition.globalSecondaryIndexes) {
      table.addGlobalSecondaryIndex({
        indexName: index.indexName,
        partitionKey: { name: index.partitionKey.name, type: AttributeType.STRING },
        ...(index.sortKey ? { sortKey: { name: index.sortKey.name, type: AttributeType.STRING } } : {}),
        projectionType: ProjectionType.ALL,
      });
    }
    return { definition, table, tableName, adopted: false };
  }
}

function constructId(definition: TableDefinition): string {
  const name = definition.logicalName;
  return `${name.charAt(0).toUpperCase()}${name.slice(1)}Table`;
}
