import { describe, expect, it } from 'vitest';
import { resourcesOfType, synthesizeApp } from './synthesize-app';

describe('Stack: alarm and dashboard options (operationalAlarms, dashboard)', () => {
  it('keeps the execution, API and dead-letter alarms by default and adds an error and a throttle alarm per function with operationalAlarms=all; dashboard=false drops the dashboard', () => {
    // Act
    const full = synthesizeApp({ operationalAlarms: 'all' }, { cloudFormationValidation: false });
    const byDefault = synthesizeApp({}, { cloudFormationValidation: false });
    const small = synthesizeApp(
      { operationalAlarms: 'essential', dashboard: 'false' },
      { cloudFormationValidation: false },
    );

    // Assess
    const alarmNames = (app: ReturnType<typeof synthesizeApp>) =>
      resourcesOfType(app.resources, 'AWS::CloudWatch::Alarm').map(([logicalId]) => logicalId);
    const functions = resourcesOfType(full.resources, 'AWS::Lambda::Function').length;
    expect(alarmNames(full)).toHaveLength(alarmNames(small).length + 2 * functions);
    expect(alarmNames(byDefault)).toEqual(alarmNames(small));
    expect(alarmNames(full).filter((id) => id.includes('Throttles'))).toHaveLength(functions);
    expect(alarmNames(small).some((id) => id.includes('ScanExecutionsTimedOut'))).toBe(true);
    expect(alarmNames(small).some((id) => id.includes('ApiServerErrors'))).toBe(true);
    expect(alarmNames(small).some((id) => id.includes('SchedulerDeadLetterQueueDepth'))).toBe(true);
    expect(resourcesOfType(full.resources, 'AWS::CloudWatch::Dashboard')).toHaveLength(1);
    expect(resourcesOfType(small.resources, 'AWS::CloudWatch::Dashboard')).toHaveLength(0);
    expect(resourcesOfType(byDefault.resources, 'AWS::CloudWatch::Dashboard')).toHaveLength(1);
    expect(small.nagReport.success).toBe(true);
    expect(full.nagReport.success).toBe(true);
  }, 60_000);
});
