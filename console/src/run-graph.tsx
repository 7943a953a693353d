import { graphlib, layout } from '@dagrejs/dagre';
import { useMemo } from 'preact/hooks';
import { formatDuration } from './format';
import {
  type Edge,
  edgesOf,
  OUTCOME_LABELS,
  type StateSummary,
  type WorkflowDefinition,
} from './run-analysis';

const NODE_WIDTH = 230;
const LINE_HEIGHT = 15;
const MAX_CHARS = 30;

function wrap(text: string): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/)) {
    if (line && `${line} ${word}`.length > MAX_CHARS) {
      lines.push(line);
      line = word;
    } else line = line ? `${line} ${word}` : word;
  }
  if (line) lines.push(line);
  return lines;
}

interface PlacedNode {
  state: StateSummary;
  x: number;
  y: number;
  width: number;
  height: number;
  lines: string[];
}

interface PlacedEdge {
  edge: Edge;
  points: Array<{ x: number; y: number }>;
}

/** Lays the definition's states out with dagre (top to bottom). */
function place(definition: WorkflowDefinition, states: StateSummary[]) {
  const graph = new graphlib.Graph({ multigraph: false });
  graph.setGraph({ rankdir: 'TB', nodesep: 30, ranksep: 42, marginx: 12, marginy: 12 });
  graph.setDefaultEdgeLabel(() => ({}));
  const byName = new Map(states.map((state) => [state.name, state]));
  for (const state of states) {
    const lines = wrap(state.name);
    graph.setNode(state.name, { width: NODE_WIDTH, height: 24 + (lines.length + 1) * LINE_HEIGHT, lines });
  }
  const edges = edgesOf(definition);
  for (const edge of edges) graph.setEdge(edge.from, edge.to, { edge });
  layout(graph);
  const nodes: PlacedNode[] = graph.nodes().map((name) => {
    const node = graph.node(name) as { x: number; y: number; width: number; height: number; lines: string[] };
    return { state: byName.get(name) as StateSummary, ...node };
  });
  const placedEdges: PlacedEdge[] = graph.edges().map((key) => {
    const value = graph.edge(key) as { points: Array<{ x: number; y: number }>; edge: Edge };
    return { edge: value.edge, points: value.points };
  });
  // Edges routed around the nodes (Catch paths) may leave the graph's own box: bound everything.
  const xs = [
    ...nodes.flatMap((node) => [node.x - node.width / 2, node.x + node.width / 2]),
    ...placedEdges.flatMap((edge) => edge.points.map((point) => point.x)),
  ];
  const ys = [
    ...nodes.flatMap((node) => [node.y - node.height / 2, node.y + node.height / 2]),
    ...placedEdges.flatMap((edge) => edge.points.map((point) => point.y)),
  ];
  const minX = Math.min(...xs) - 12;
  const minY = Math.min(...ys) - 12;
  return {
    nodes,
    edges: placedEdges,
    minX,
    minY,
    width: Math.max(...xs) + 12 - minX,
    height: Math.max(...ys) + 12 - minY,
  };
}

function caption(state: StateSummary): string {
  const parts = [OUTCOME_LABELS[state.outcome]];
  if (state.durationMs !== null) parts.push(formatDuration(state.durationMs));
  if (state.retries > 0) parts.push(`${state.retries} ${state.retries === 1 ? 'retry' : 'retries'}`);
  if (state.visits.length > 1) parts.push(`${state.visits.length}×`);
  return parts.join(' · ');
}

/** The run's state graph, drawn from the workflow definition, each state coloured by its outcome. */
export function RunGraph(props: {
  definition: WorkflowDefinition;
  states: StateSummary[];
  onSelect: (name: string) => void;
}) {
  const placed = useMemo(() => place(props.definition, props.states), [props.definition, props.states]);
  return (
    <figure class="graph-figure">
      <figcaption class="muted">
        Each state of the workflow definition; press Enter on a state to open its details.
      </figcaption>
      <svg
        class="run-graph"
        viewBox={`${placed.minX} ${placed.minY} ${placed.width} ${placed.height}`}
        data-width={placed.width}
      >
        <title>State graph of the run</title>
        <defs>
          <marker
            id="arrow"
            viewBox="0 0 10 10"
            refX="9"
            refY="5"
            markerWidth="7"
            markerHeight="7"
            orient="auto"
          >
            <path d="M0,0 L10,5 L0,10 z" class="edge-arrow" />
          </marker>
        </defs>
        {placed.edges.map(({ edge, points }) => (
          <path
            key={`${edge.from}->${edge.to}`}
            class={`edge edge-${edge.kind}`}
            d={points.map((point, index) => `${index === 0 ? 'M' : 'L'}${point.x},${point.y}`).join(' ')}
            marker-end="url(#arrow)"
          />
        ))}
        {placed.nodes.map((node) => (
          // biome-ignore lint/a11y/useSemanticElements: an SVG node cannot be a <button>; it behaves as one.
          <g
            key={node.state.name}
            class={`node outcome-${node.state.outcome}`}
            data-state={node.state.name}
            data-outcome={node.state.outcome}
            transform={`translate(${node.x - node.width / 2},${node.y - node.height / 2})`}
            role="button"
            tabIndex={0}
            onClick={() => props.onSelect(node.state.name)}
            onKeyDown={(event) => {
              if (event.key === 'Enter' || event.key === ' ') {
                event.preventDefault();
                props.onSelect(node.state.name);
              }
            }}
          >
            <rect width={node.width} height={node.height} rx={node.state.type === 'Choice' ? 18 : 6} />
            {node.lines.map((line, index) => (
              <text key={line} x={node.width / 2} y={16 + index * LINE_HEIGHT} class="node-name">
                {line}
              </text>
            ))}
            <text x={node.width / 2} y={16 + node.lines.length * LINE_HEIGHT + 4} class="node-caption">
              {caption(node.state)}
            </text>
          </g>
        ))}
      </svg>
    </figure>
  );
}
