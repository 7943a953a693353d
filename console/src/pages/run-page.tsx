import { useMemo, useState } from 'preact/hooks';
import { api } from '../api';
import { useApp } from '../app-context';
import { FAILING_STATUSES, formatDuration, formatTime } from '../format';
import {
  analyzeRun,
  type HistoryEvent,
  OUTCOME_LABELS,
  type StateSummary,
  type WorkflowDefinition,
} from '../run-analysis';
import { RunGraph } from '../run-graph';
import type { ExecutionView } from '../types';
import { useLoad } from '../use-poll';
import { StatusBadge } from './status-badge';
import { Timeline } from './timeline';

interface RunData {
  execution: ExecutionView;
  events: HistoryEvent[];
  definition: WorkflowDefinition;
}

const REDRIVABLE = new Set(['failed', 'timed_out', 'aborted']);
let definitionCache: Promise<WorkflowDefinition> | undefined;

async function loadRun(executionId: string): Promise<RunData> {
  definitionCache ??= api<{ definition: WorkflowDefinition }>('/api/v1/workflows/scan/definition').then(
    (answer) => answer.definition,
  );
  const execution = await api<ExecutionView>(`/api/v1/executions/${encodeURIComponent(executionId)}`);
  const [history, definition] = await Promise.all([
    execution.workflow.arn
      ? api<{ events: HistoryEvent[] }>(
          `/api/v1/executions/${encodeURIComponent(executionId)}/history?limit=1000`,
        )
      : Promise.resolve({ events: [] }),
    definitionCache,
  ]);
  return { execution, events: history.events, definition };
}

function Json(props: { value: unknown }) {
  if (props.value === undefined) return <span class="muted">none</span>;
  return (
    // biome-ignore lint/a11y/noNoninteractiveTabindex: a scrollable block must be reachable by keyboard.
    <pre class="json" tabIndex={0}>
      {JSON.stringify(props.value, null, 2)}
    </pre>
  );
}

function StateDetails(props: { state: StateSummary; open: boolean }) {
  const { state } = props;
  return (
    <details class={`state-details outcome-${state.outcome}`} open={props.open} id={`state-${state.name}`}>
      <summary>
        <span class="state-name">{state.name}</span> — {OUTCOME_LABELS[state.outcome]},{' '}
        {formatDuration(state.durationMs)}
        {state.retries > 0 ? `, ${state.retries} ${state.retries === 1 ? 'retry' : 'retries'}` : ''}
      </summary>
      {state.comment && <p class="muted">{state.comment}</p>}
      {state.error && (
        <div class="state-error" role="note" aria-label={`Error of ${state.name}`}>
          <p>
            <strong>Error:</strong> <code>{state.error}</code>
          </p>
          {state.cause && (
            <p>
              <strong>Cause:</strong> {state.cause}
            </p>
          )}
        </div>
      )}
      {state.visits.map((visit, index) => (
        <div class="visit" key={visit.enteredAt + String(index)}>
          <p class="muted">
            {state.visits.length > 1 ? `Visit ${index + 1}: ` : ''}entered {formatTime(visit.enteredAt)}
            {visit.exitedAt ? `, left ${formatTime(visit.exitedAt)}` : ''}
          </p>
          <div class="io">
            <div>
              <h4>Input</h4>
              <Json value={visit.input} />
            </div>
            <div>
              <h4>Output</h4>
              <Json value={visit.output} />
            </div>
          </div>
        </div>
      ))}
    </details>
  );
}

/** One run: graph, timeline, each state's input/output and error, links and actions, live while running. */
export function RunPage(props: { executionId: string }) {
  const app = useApp();
  const [selected, setSelected] = useState<string | null>(null);
  const [message, setMessage] = useState<string | null>(null);
  const run = useLoad(`run:${props.executionId}`, () => loadRun(props.executionId), {
    intervalMs: 2000,
    // Also before the first answer: a run just triggered may not be recorded yet.
    shouldPoll: (data) => data === undefined || data.execution.status === 'running',
  });
  const data = run.data;
  const running = data?.execution.status === 'running';
  const analysis = useMemo(
    () => (data ? analyzeRun(data.definition, data.events, { running, now: new Date() }) : undefined),
    [data, running],
  );

  if (run.error && !data)
    return (
      <p role="alert" class="error">
        {run.error}
      </p>
    );
  if (!data || !analysis) return <p aria-busy="true">Loading the run…</p>;
  const { execution } = data;
  // The root cause: the first state entered that failed (caught or not), not the Fail state that ends the run.
  const failedState =
    analysis.entered
      .map((name) => analysis.states.find((state) => state.name === name))
      .find((state) => state?.error && state.type !== 'Fail') ??
    analysis.states.find((state) => state.error && state.outcome === 'failed');
  const enteredStates = analysis.entered
    .map((name) => analysis.states.find((state) => state.name === name))
    .filter((state): state is StateSummary => state !== undefined);

  const act = async (action: 'cancel' | 'redrive') => {
    try {
      const answer = await api<{ message: string; execution_id: string }>(
        `/api/v1/executions/${encodeURIComponent(execution.execution_id)}/${action}`,
        { method: 'POST' },
      );
      setMessage(answer.message);
      if (action === 'redrive' && answer.execution_id !== execution.execution_id)
        app.navigate(`#/runs/${answer.execution_id}`);
      else run.reload();
    } catch (error) {
      setMessage((error as Error).message);
    }
  };

  return (
    <section aria-labelledby="run-title">
      <h1 id="run-title">
        Run {execution.execution_id} <StatusBadge status={execution.status} />
      </h1>
      <dl class="facts">
        <dt>Workflow</dt>
        <dd>scan {execution.workflow.name ? <code>{execution.workflow.name}</code> : null}</dd>
        <dt>Started</dt>
        <dd>{formatTime(execution.started_at)}</dd>
        <dt>Finished</dt>
        <dd>{formatTime(execution.completed_at)}</dd>
        <dt>Trigger</dt>
        <dd>{execution.triggered_by}</dd>
        <dt>Account</dt>
        <dd>
          <a href={`#/accounts?account=${execution.account_id}`}>{execution.account_id}</a>
        </dd>
        <dt>Schedule</dt>
        <dd>
          {execution.schedule_id ? (
            <a href={`#/schedules/${execution.schedule_id}`}>{execution.schedule_id}</a>
          ) : (
            '—'
          )}
        </dd>
        <dt>Scan result</dt>
        <dd>
          {execution.scan_id && execution.status === 'completed' ? (
            <a href={`#/scan-results/${execution.scan_id}`}>{execution.scan_id}</a>
          ) : (
            (execution.scan_id ?? '—')
          )}
        </dd>
        {execution.redrive_of && (
          <>
            <dt>Redrives</dt>
            <dd>
              <a href={`#/runs/${execution.redrive_of}`}>{execution.redrive_of}</a>
            </dd>
          </>
        )}
        {execution.redriven_by && (
          <>
            <dt>Redriven by</dt>
            <dd>
              <a href={`#/runs/${execution.redriven_by}`}>{execution.redriven_by}</a>
            </dd>
          </>
        )}
      </dl>
      {FAILING_STATUSES.has(execution.status) && (
        <div class="failure" role="alert" aria-label="Why the run failed">
          <h2>Failure</h2>
          {failedState && (
            <p>
              State <a href={`#state-${failedState.name}`}>{failedState.name}</a> failed with{' '}
              <code class="failed-error">{failedState.error}</code>
              {failedState.cause ? `: ${failedState.cause}` : ''}
            </p>
          )}
          {execution.error_code && (
            <p>
              Recorded error: <code>{execution.error_code}</code> {execution.error_message}
            </p>
          )}
          {!failedState && analysis.error && (
            <p>
              <code>{analysis.error}</code> {analysis.cause}
            </p>
          )}
        </div>
      )}
      <div class="actions">
        {execution.workflow.console_url && (
          <a href={execution.workflow.console_url} target="_blank" rel="noreferrer">
            Open in the Step Functions console
          </a>
        )}
        {app.me.may.operate && running && (
          <button type="button" onClick={() => void act('cancel')}>
            Cancel run
          </button>
        )}
        {app.me.may.operate && REDRIVABLE.has(execution.status) && !execution.redriven_by && (
          <button type="button" onClick={() => void act('redrive')}>
            Redrive run
          </button>
        )}
        {running && <span class="live">Live: updating every 2 s</span>}
      </div>
      {message && <p role="status">{message}</p>}
      <div class="timeline-panel">
        <h2>Timeline</h2>
        <Timeline analysis={analysis} running={running} />
      </div>
      <div class="run-layout">
        <div class="graph-panel">
          <h2>State graph</h2>
          <div class="legend">
            {(['succeeded', 'retried', 'caught', 'failed', 'running', 'not_reached'] as const).map(
              (outcome) => (
                <span key={outcome} class={`legend-item outcome-${outcome}`}>
                  {OUTCOME_LABELS[outcome]}
                </span>
              ),
            )}
          </div>
          <RunGraph
            definition={data.definition}
            states={analysis.states}
            onSelect={(name) => {
              setSelected(name);
              document.getElementById(`state-${name}`)?.scrollIntoView({ block: 'nearest' });
            }}
          />
        </div>
        <div class="detail-panel">
          <h2>States entered ({enteredStates.length})</h2>
          {enteredStates.map((state) => (
            <StateDetails
              key={state.name}
              state={state}
              open={state.name === selected || state === failedState}
            />
          ))}
        </div>
      </div>
    </section>
  );
}
