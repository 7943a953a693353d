/** The current time, injected so cores and tests agree on "now". */
export type Clock = () => Date;

export const systemClock: Clock = () => new Date();
