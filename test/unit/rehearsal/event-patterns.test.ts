import { describe, expect, it } from 'vitest';
import { matchesEventPattern } from '../../../rehearsal/event-patterns';

const event = {
  source: 'threat-engine.orchestrator',
  'detail-type': 'scan.failed',
  detail: { channels: ['email', 'webhook'], event_type: 'scan.failed', account_id: 'a-1' },
};

describe('Function: matchesEventPattern', () => {
  it.each([
    [{ source: ['threat-engine.orchestrator'], detail: { channels: ['webhook'] } }, true],
    [{ source: ['threat-engine.orchestrator'], detail: { channels: ['slack'] } }, false],
    [{ source: ['aws.states'] }, false],
    [{ detail: { event_type: [{ prefix: 'scan.' }] } }, true],
    [{ detail: { schedule_id: [{ exists: true }] } }, false],
    [{ detail: ['email'] }, false],
  ])('matches %j: %s', (pattern, expected) => {
    expect(matchesEventPattern(pattern, event)).toBe(expected);
  });
});
