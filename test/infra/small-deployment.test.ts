import { describe, expect, it } from 'vitest';
import { resourcesOfType, synthesizeApp } from './synthesize-app';

describe('Stack: a small deployment (operationalAlarms essential, no dashboard)', () => {
  it('keeps the execution, API and dead-letter alarms and drops the per-function ones and the dashboard', () => {
    // Act
    const full = synthesizeApp({}, { cloudFormationValidation: false });
    const small = synthesizeApp(
      { operationalAlarms: 'essential', dashboard: 'false' },
      { cloudFormationValidation: false },
    );

    // Assess
    const alarmNames = (app: ReturnType<typeof synthesizeApp>) =>
      resourcesOfType(app.resources, 'AWS::CloudWatch::Alarm').map(([logicalId]) => logicalId);
    const functions = resourcesOfType(full.resources, 'AWS::Lambda::Function').length;
    expect(alarmNames(full)).toHaveLength(alarmNames(small).length + 2 * functions);
    expect(alarmNames(small).some((id) => id.includes('ScanExecutionsTimedOut'))).toBe(true);
    expect(alarmNames(small).some((id) => id.includes('ApiServerErrors'))).toBe(true);
    expect(alarmNames(small).some((id) => id.includes('SchedulerDeadLetterQueueDepth'))).toBe(true);
    expect(resourcesOfType(full.resources, 'AWS::CloudWatch::Dashboard')).toHaveLength(1);
    expect(resourcesOfType(small.resources, 'AWS::CloudWatch::Dashboard')).toHaveLength(0);
    expect(small.nagReport.success).toBe(true);
  }, 60_000);
});
