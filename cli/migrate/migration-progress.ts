import cliProgress from 'cli-progress';

/** Progress of a migration, table by table: counts, rate and ETA. Never a record's content. */
export interface MigrationProgress {
  begin(table: string, total: number): void;
  advance(count: number): void;
  end(): void;
}

function rateAndEta(done: number, total: number, startedAt: number): { rate: number; eta: string } {
  const seconds = Math.max((Date.now() - startedAt) / 1000, 0.001);
  const rate = done / seconds;
  const remaining = rate > 0 ? Math.ceil((total - done) / rate) : 0;
  return { rate: Math.round(rate), eta: done >= total ? '0s' : `${remaining}s` };
}

/** A bar on a terminal (cli-progress), plain lines otherwise (a log, a pipe, CI). */
export function createMigrationProgress(stream: NodeJS.WriteStream = process.stderr): MigrationProgress {
  return stream.isTTY ? new BarProgress(stream) : new LineProgress(stream);
}

class BarProgress implements MigrationProgress {
  private bar: cliProgress.SingleBar | undefined;
  private table = '';
  private done = 0;
  private total = 0;
  private startedAt = 0;

  constructor(private readonly stream: NodeJS.WriteStream) {}

  begin(table: string, total: number): void {
    this.end();
    Object.assign(this, { table, total, done: 0, startedAt: Date.now() });
    this.bar = new cliProgress.SingleBar(
      {
        stream: this.stream,
        format: '{table} [{bar}] {value}/{total} | {rate}/s | ETA {eta_formatted}',
        hideCursor: true,
        clearOnComplete: false,
      },
      cliProgress.Presets.shades_classic,
    );
    this.bar.start(Math.max(total, 1), 0, { table: table.padEnd(16), rate: 0 });
  }

  advance(count: number): void {
    this.done += count;
    this.bar?.update(this.done, {
      table: this.table.padEnd(16),
      rate: rateAndEta(this.done, this.total, this.startedAt).rate,
    });
  }

  end(): void {
    this.bar?.stop();
    this.bar = undefined;
  }
}

class LineProgress implements MigrationProgress {
  private table = '';
  private done = 0;
  private total = 0;
  private startedAt = 0;
  private lastLineAt = 0;

  constructor(private readonly stream: NodeJS.WriteStream) {}

  begin(table: string, total: number): void {
    Object.assign(this, { table, total, done: 0, startedAt: Date.now(), lastLineAt: Date.now() });
    this.stream.write(`migrate: ${table}: ${total} to process\n`);
  }

  advance(count: number): void {
    this.done += count;
    if (Date.now() - this.lastLineAt < 2000) return;
    this.lastLineAt = Date.now();
    this.line();
  }

  end(): void {
    if (this.table) this.line();
    this.table = '';
  }

  private line(): void {
    const { rate, eta } = rateAndEta(this.done, this.total, this.startedAt);
    this.stream.write(`migrate: ${this.table}: ${this.done}/${this.total} (${rate}/s, ETA ${eta})\n`);
  }
}
