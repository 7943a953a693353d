import { formatDuration } from '../format';
import type { RunAnalysis } from '../run-analysis';

const ROW = 22;
const LABEL = 300;
const WIDTH = 1200;

/** A Gantt-like view: one row per state entered, a bar per visit, on the run's own time axis. */
export function Timeline(props: { analysis: RunAnalysis; running: boolean }) {
  const { analysis } = props;
  const rows = analysis.entered
    .map((name) => analysis.states.find((state) => state.name === name))
    .filter((state) => state !== undefined);
  const start = Date.parse(analysis.startedAt ?? rows[0]?.visits[0]?.enteredAt ?? new Date().toISOString());
  const end = props.running || !analysis.endedAt ? Date.now() : Date.parse(analysis.endedAt);
  const span = Math.max(1, end - start);
  const scale = (time: number) => LABEL + ((time - start) / span) * (WIDTH - LABEL - 90);
  const height = rows.length * ROW + 24;
  return (
    <svg
      class="timeline"
      viewBox={`0 0 ${WIDTH} ${height}`}
      role="img"
      aria-label={`Timeline of ${rows.length} states over ${formatDuration(span)}`}
    >
      {rows.map((state, index) => (
        <g key={state.name} class={`outcome-${state.outcome}`}>
          <text x={LABEL - 6} y={index * ROW + 15} class="timeline-label">
            {state.name.length > 36 ? `${state.name.slice(0, 35)}…` : state.name}
          </text>
          {state.visits.map((visit) => {
            const from = scale(Date.parse(visit.enteredAt));
            const to = scale(visit.exitedAt ? Date.parse(visit.exitedAt) : end);
            return (
              <rect
                key={visit.enteredAt}
                x={from}
                y={index * ROW + 4}
                width={Math.max(2, to - from)}
                height={ROW - 8}
                rx={2}
              >
                <title>{`${state.name}: ${formatDuration(Date.parse(visit.exitedAt ?? new Date(end).toISOString()) - Date.parse(visit.enteredAt))}`}</title>
              </rect>
            );
          })}
          <text
            x={scale(Date.parse(state.visits.at(-1)?.exitedAt ?? new Date(end).toISOString())) + 6}
            y={index * ROW + 15}
            class="timeline-duration"
          >
            {formatDuration(state.durationMs)}
            {state.retries > 0 ? ` · ${state.retries} ${state.retries === 1 ? 'retry' : 'retries'}` : ''}
          </text>
        </g>
      ))}
      <text x={LABEL} y={height - 6} class="timeline-axis">
        0
      </text>
      <text x={WIDTH - 90} y={height - 6} class="timeline-axis end">
        {formatDuration(span)}
      </text>
    </svg>
  );
}
