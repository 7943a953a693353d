/** An execution or schedule status, as a coloured word (the word carries the meaning, not the colour). */
export function StatusBadge(props: { status: string }) {
  return <span class={`badge status-${props.status}`}>{props.status.replace('_', ' ')}</span>;
}
