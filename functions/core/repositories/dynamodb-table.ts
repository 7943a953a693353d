import {
  DeleteCommand,
  type DynamoDBDocumentClient,
  GetCommand,
  PutCommand,
  QueryCommand,
  ScanCommand,
  UpdateCommand,
} from '@aws-sdk/lib-dynamodb';
import { TABLE_NAME_VARIABLES } from '../../../schemas/config';
import type { TableDefinition } from '../../../schemas/tables';
import { ConfigurationError, DependencyUnavailableError } from '../errors';
import { type CursorScope, type Page, type PageRequest, readPage } from './pagination';

export type Item = Record<string, unknown>;

/** A condition with its own placeholders (`#name`, `:value`; never `#u…`/`:u…`, the update's own). */
export interface Condition {
  expression: string;
  names?: Record<string, string>;
  values?: Record<string, unknown>;
}

/**
 * The changes of one UpdateItem. In `set`, `undefined` leaves an attribute alone and `null`
 * removes it (so no null is ever written); `add` is DynamoDB's atomic ADD.
 */
export interface UpdateParts {
  set?: Record<string, unknown>;
  remove?: readonly string[];
  add?: Record<string, number>;
}

export interface QueryOptions {
  indexName?: string;
  /** The key condition as equalities: the partition attribute, and the sort attribute when pinned. */
  key: Record<string, string>;
  /** A sort key upper bound (inclusive), added to the key condition. */
  sortKeyAtMost?: { attribute: string; value: string };
  filter?: Condition;
  newestFirst?: boolean;
}

const RETRYABLE_NAMES = new Set([
  'ProvisionedThroughputExceededException',
  'ThrottlingException',
  'RequestLimitExceeded',
  'InternalServerError',
  'ServiceUnavailable',
  'LimitExceededException',
  'TransactionConflictException',
  'ItemCollectionSizeLimitExceededException',
]);

export function isConditionalCheckFailed(error: unknown): boolean {
  return error instanceof Error && error.name === 'ConditionalCheckFailedException';
}

/**
 * One table behind the document client, shared by the repositories: error mapping, the
 * no-null-key rule on writes, update expressions and paginated reads live here once.
 */
export class DynamoDbTable {
  /** Attributes that are a key of the table or of one of its GSIs. */
  readonly keyAttributes: ReadonlySet<string>;

  constructor(
    private readonly client: DynamoDBDocumentClient,
    readonly tableName: string,
    readonly definition: TableDefinition,
  ) {
    const names = [definition.partitionKey.name, definition.sortKey?.name];
    for (const index of definition.globalSecondaryIndexes)
      names.push(index.partitionKey.name, index.sortKey?.name);
    this.keyAttributes = new Set(names.filter((name): name is string => name !== undefined));
  }

  /** Strongly consistent read of one item. */
  async get(key: Item): Promise<Item | undefined> {
    const result = await this.call('GetItem', () =>
      this.client.send(new GetCommand({ TableName: this.tableName, Key: key, ConsistentRead: true })),
    );
    return result.Item;
  }

  /** Writes the item; false when the condition failed. Null attributes (and empty keys) are omitted. */
  async put(item: Item, condition?: Condition): Promise<boolean> {
    try {
      await this.call('PutItem', () =>
        this.client.send(
          new PutCommand({
            TableName: this.tableName,
            Item: this.writable(item),
            ...conditionParams(condition),
          }),
        ),
      );
      return true;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return false;
      throw error;
    }
  }

  /** Applies the update and returns the whole new item, or undefined when the condition failed. */
  async update(key: Item, parts: UpdateParts, condition?: Condition): Promise<Item | undefined> {
    const update = buildUpdate(parts, this.keyAttributes);
    const conditionNames = condition?.names ?? {};
    const conditionValues = condition?.values ?? {};
    const names = { ...update.names, ...conditionNames };
    const values = { ...update.values, ...conditionValues };
    try {
      const result = await this.call('UpdateItem', () =>
        this.client.send(
          new UpdateCommand({
            TableName: this.tableName,
            Key: key,
            UpdateExpression: update.expression,
            ...(condition ? { ConditionExpression: condition.expression } : {}),
            ...(Object.keys(names).length > 0 ? { ExpressionAttributeNames: names } : {}),
            ...(Object.keys(values).length > 0 ? { ExpressionAttributeValues: values } : {}),
            ReturnValues: 'ALL_NEW',
          }),
        ),
      );
      return result.Attributes ?? {};
    } catch (error) {
      if (isConditionalCheckFailed(error)) return undefined;
      throw error;
    }
  }

  /** Deletes the item and returns it, or undefined when the condition failed (or nothing was there). */
  async delete(key: Item, condition?: Condition): Promise<Item | undefined> {
    try {
      const result = await this.call('DeleteItem', () =>
        this.client.send(
          new DeleteCommand({
            TableName: this.tableName,
            Key: key,
            ...conditionParams(condition),
            ReturnValues: 'ALL_OLD',
          }),
        ),
      );
      return result.Attributes;
    } catch (error) {
      if (isConditionalCheckFailed(error)) return undefined;
      throw error;
    }
  }

  /** What every Query of `options` says: the index, the key condition and the filter. */
  #queryInput(options: QueryOptions) {
    const names: Record<string, string> = { ...(options.filter?.names ?? {}) };
    const values: Record<string, unknown> = { ...(options.filter?.values ?? {}) };
    const keyCondition = Object.entries(options.key).map(([attribute, value], position) => {
      names[`#k${position}`] = attribute;
      values[`:k${position}`] = value;
      return `#k${position} = :k${position}`;
    });
    if (options.sortKeyAtMost) {
      names['#kmax'] = options.sortKeyAtMost.attribute;
      values[':kmax'] = options.sortKeyAtMost.value;
      keyCondition.push('#kmax <= :kmax');
    }
    return {
      TableName: this.tableName,
      ...(options.indexName ? { IndexName: options.indexName } : {}),
      KeyConditionExpression: keyCondition.join(' AND '),
      ...(options.filter ? { FilterExpression: options.filter.expression } : {}),
      ExpressionAttributeNames: names,
      ExpressionAttributeValues: values,
    };
  }

  /** One page of a Query over the table or one of its GSIs; cursors are pinned to the key condition. */
  async queryPage<T>(
    options: QueryOptions,
    page: PageRequest | undefined,
    parse: (item: Item) => T,
  ): Promise<Page<T>> {
    const input = this.#queryInput(options);
    const scope: CursorScope = {
      keyAttributes: this.cursorAttributes(options.indexName),
      fixed: options.key,
    };
    return readPage(
      page,
      scope,
      async (exclusiveStartKey, limit) => {
        const result = await this.call('Query', () =>
          this.client.send(
            new QueryCommand({
              ...input,
              ScanIndexForward: !options.newestFirst,
              Limit: limit,
              ...(exclusiveStartKey ? { ExclusiveStartKey: exclusiveStartKey } : {}),
            }),
          ),
        );
        return { items: result.Items ?? [], lastEvaluatedKey: result.LastEvaluatedKey };
      },
      parse,
    );
  }

  /**
   * How many items a Query matches (Select COUNT: DynamoDB reads up to 1 MB a call, the items
   * stay on its side). At most `maxReads` calls; `exact` is false when the count stopped there.
   */
  async count(options: QueryOptions, maxReads = 20): Promise<{ count: number; exact: boolean }> {
    const input = this.#queryInput(options);
    let count = 0;
    let startKey: Record<string, unknown> | undefined;
    for (let reads = 0; reads < maxReads; reads += 1) {
      const result = await this.call('Query', () =>
        this.client.send(
          new QueryCommand({
            ...input,
            Select: 'COUNT',
            ...(startKey ? { ExclusiveStartKey: startKey } : {}),
          }),
        ),
      );
      count += result.Count ?? 0;
      startKey = result.LastEvaluatedKey;
      if (startKey === undefined) return { count, exact: true };
    }
    return { count, exact: false };
  }

  /** All items of one GSI partition (small, bounded sets only: e.g. a tenant's providers of one type). */
  async queryAll(options: QueryOptions): Promise<Item[]> {
    const items: Item[] = [];
    let cursor: string | undefined;
    do {
      const page = await this.queryPage(options, { limit: 100, cursor }, (item) => item);
      items.push(...page.items);
      cursor = page.next_cursor ?? undefined;
    } while (cursor !== undefined);
    return items;
  }

  /** One page of a Scan (admin listings of small tables only: never on a tenant's request path). */
  async scanPage<T>(
    page: PageRequest | undefined,
    parse: (item: Item) => T,
    filter?: Condition,
  ): Promise<Page<T>> {
    return readPage(
      page,
      { keyAttributes: this.cursorAttributes(undefined) },
      async (exclusiveStartKey, limit) => {
        const result = await this.call('Scan', () =>
          this.client.send(
            new ScanCommand({
              TableName: this.tableName,
              Limit: limit,
              ...(filter
                ? {
                    FilterExpression: filter.expression,
                    ...(filter.names ? { ExpressionAttributeNames: filter.names } : {}),
                    ...(filter.values ? { ExpressionAttributeValues: filter.values } : {}),
                  }
                : {}),
              ...(exclusiveStartKey ? { ExclusiveStartKey: exclusiveStartKey } : {}),
            }),
          ),
        );
        return { items: result.Items ?? [], lastEvaluatedKey: result.LastEvaluatedKey };
      },
      parse,
    );
  }

  /** The item as it may be written: no null/undefined attribute, no empty-string key attribute. */
  writable(item: Item): Item {
    return Object.fromEntries(
      Object.entries(item).filter(
        ([name, value]) =>
          value !== null && value !== undefined && !(value === '' && this.keyAttributes.has(name)),
      ),
    );
  }

  private cursorAttributes(indexName: string | undefined): string[] {
    const { definition } = this;
    const attributes = [definition.partitionKey.name, definition.sortKey?.name];
    if (indexName !== undefined) {
      const index = definition.globalSecondaryIndexes.find((candidate) => candidate.indexName === indexName);
      if (!index) throw new Error(`table ${definition.logicalName} has no index ${indexName}`);
      attributes.push(index.partitionKey.name, index.sortKey?.name);
    }
    return [...new Set(attributes.filter((name): name is string => name !== undefined))];
  }

  /** Maps what the SDK throws: a missing table is configuration, throttling and faults may pass on retry. */
  private async call<T>(operation: string, send: () => Promise<T>): Promise<T> {
    try {
      return await send();
    } catch (error) {
      if (!(error instanceof Error) || isConditionalCheckFailed(error)) throw error;
      if (error.name === 'ResourceNotFoundException') {
        const variable = TABLE_NAME_VARIABLES[this.definition.logicalName];
        throw new ConfigurationError(
          `table ${this.tableName} does not exist (set ${variable} to an existing table)`,
          [{ field: variable, message: `table ${this.tableName} does not exist` }],
          { cause: error },
        );
      }
      if (isRetryable(error)) {
        throw new DependencyUnavailableError(
          'dynamodb',
          `${operation} on table ${this.tableName} failed (${error.name}); it may pass on retry`,
          { cause: error },
        );
      }
      throw error;
    }
  }
}

function isRetryable(error: Error): boolean {
  const details = error as Error & {
    $fault?: string;
    $retryable?: unknown;
    $metadata?: unknown;
    code?: unknown;
  };
  if (RETRYABLE_NAMES.has(error.name) || details.$fault === 'server' || details.$retryable) return true;
  // No response at all: the connection failed (ECONNREFUSED, ECONNRESET, timeouts).
  return details.$metadata === undefined && typeof details.code === 'string';
}

function conditionParams(condition: Condition | undefined) {
  if (!condition) return {};
  return {
    ConditionExpression: condition.expression,
    ...(condition.names && Object.keys(condition.names).length > 0
      ? { ExpressionAttributeNames: condition.names }
      : {}),
    ...(condition.values && Object.keys(condition.values).length > 0
      ? { ExpressionAttributeValues: condition.values }
      : {}),
  };
}

/** SET / REMOVE / ADD clauses with generated placeholders (`#u0`, `:u0`, …). */
function buildUpdate(parts: UpdateParts, keyAttributes: ReadonlySet<string>) {
  const names: Record<string, string> = {};
  const values: Record<string, unknown> = {};
  const sets: string[] = [];
  const removes: string[] = [];
  const adds: string[] = [];
  let next = 0;
  const placeholder = (attribute: string) => {
    const position = next++;
    names[`#u${position}`] = attribute;
    return position;
  };
  for (const [attribute, value] of Object.entries(parts.set ?? {})) {
    if (value === undefined) continue;
    const position = placeholder(attribute);
    if (value === null || (value === '' && keyAttributes.has(attribute))) {
      removes.push(`#u${position}`);
    } else {
      values[`:u${position}`] = value;
      sets.push(`#u${position} = :u${position}`);
    }
  }
  for (const attribute of parts.remove ?? []) removes.push(`#u${placeholder(attribute)}`);
  for (const [attribute, amount] of Object.entries(parts.add ?? {})) {
    const position = placeholder(attribute);
    values[`:u${position}`] = amount;
    adds.push(`#u${position} :u${position}`);
  }
  const clauses = [
    sets.length > 0 ? `SET ${sets.join(', ')}` : '',
    removes.length > 0 ? `REMOVE ${removes.join(', ')}` : '',
    adds.length > 0 ? `ADD ${adds.join(', ')}` : '',
  ].filter(Boolean);
  if (clauses.length === 0) throw new Error('an update needs at least one change');
  return { expression: clauses.join(' '), names, values };
}
