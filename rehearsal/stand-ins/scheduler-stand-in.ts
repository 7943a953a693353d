import { awsJson, type LoopbackService, type ServiceAnswer, startLoopbackService } from './loopback-service';

export interface StoredSchedule {
  Name: string;
  GroupName: string;
  Arn: string;
  State?: string;
  ScheduleExpression?: string;
  Target?: { Arn?: string; RoleArn?: string; Input?: string };
  [field: string]: unknown;
}

const JSON_HEADERS = { 'content-type': 'application/json' };

function failure(status: number, name: string, message: string): ServiceAnswer {
  return {
    status,
    headers: { ...JSON_HEADERS, 'x-amzn-errortype': name },
    body: JSON.stringify({ Message: message }),
  };
}

/** EventBridge Scheduler on loopback (REST JSON): the schedule entries, by group and name. */
export class SchedulerStandIn {
  #service: LoopbackService | undefined;
  readonly schedules = new Map<string, StoredSchedule>();

  constructor(
    private readonly region: string,
    private readonly account: string,
  ) {}

  get url(): string {
    if (!this.#service) throw new Error('the Scheduler stand-in is not started');
    return this.#service.url;
  }

  arnOf(group: string, name: string): string {
    return `arn:aws:scheduler:${this.region}:${this.account}:schedule/${group}/${name}`;
  }

  get requestsByAccessKey(): ReadonlyMap<string, number> {
    return this.#service?.requestsByAccessKey ?? new Map();
  }

  async start(): Promise<void> {
    this.#service = await startLoopbackService(async (request) => {
      const match = /^\/schedules(?:\/([^/]+))?$/.exec(request.url.pathname);
      if (!match) return failure(404, 'ResourceNotFoundException', `no route ${request.url.pathname}`);
      const name = match[1] ? decodeURIComponent(match[1]) : undefined;
      const body = request.body ? (JSON.parse(request.body) as Record<string, unknown>) : {};
      const group = String(body.GroupName ?? request.url.searchParams.get('groupName') ?? 'default');
      const key = `${group}/${name}`;
      const ok = (value: unknown): ServiceAnswer => ({
        status: 200,
        headers: JSON_HEADERS,
        body: awsJson(value),
      });
      if (!name && request.method === 'GET') {
        const wanted = request.url.searchParams.get('ScheduleGroup');
        const prefix = request.url.searchParams.get('NamePrefix') ?? '';
        const listed = [...this.schedules.values()].filter(
          (schedule) => (!wanted || schedule.GroupName === wanted) && schedule.Name.startsWith(prefix),
        );
        return ok({
          Schedules: listed.map((schedule) => ({
            Name: schedule.Name,
            GroupName: schedule.GroupName,
            Arn: schedule.Arn,
            State: schedule.State,
            Target: { Arn: schedule.Target?.Arn },
          })),
        });
      }
      if (!name) return failure(404, 'ResourceNotFoundException', 'no schedule name');
      const existing = this.schedules.get(key);
      switch (request.method) {
        case 'POST': {
          if (existing) return failure(409, 'ConflictException', `schedule ${key} already exists`);
          const arn = this.arnOf(group, name);
          this.schedules.set(key, { ...body, Name: name, GroupName: group, Arn: arn });
          return ok({ ScheduleArn: arn });
        }
        case 'PUT': {
          if (!existing) return failure(404, 'ResourceNotFoundException', `schedule ${key} does not exist`);
          this.schedules.set(key, { ...body, Name: name, GroupName: group, Arn: existing.Arn });
          return ok({ ScheduleArn: existing.Arn });
        }
        case 'GET':
          if (!existing) return failure(404, 'ResourceNotFoundException', `schedule ${key} does not exist`);
          return ok(existing);
        case 'DELETE':
          if (!existing) return failure(404, 'ResourceNotFoundException', `schedule ${key} does not exist`);
          this.schedules.delete(key);
          return ok({});
        default:
          return failure(405, 'ValidationException', `${request.method} is not rehearsed`);
      }
    });
  }

  async close(): Promise<void> {
    await this.#service?.close();
  }
}
