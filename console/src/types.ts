/** The API answers the console reads (only the fields it shows). */

export interface ExecutionView {
  execution_id: string;
  tenant_id?: string;
  account_id: string;
  schedule_id?: string | null;
  status: string;
  triggered_by: string;
  started_at: string;
  completed_at?: string | null;
  scheduled_time?: string | null;
  scan_id?: string | null;
  current_step?: string | null;
  progress_percent?: number | null;
  error_code?: string | null;
  error_message?: string | null;
  execution_time_seconds?: number | null;
  total_checks?: number | null;
  passed_checks?: number | null;
  failed_checks?: number | null;
  workflow: { name: string | null; arn: string | null; console_url: string | null };
  redrive_of: string | null;
  redriven_by: string | null;
}

export interface ExecutionPage {
  executions: ExecutionView[];
  next_cursor: string | null;
}

export interface Schedule {
  schedule_id: string;
  tenant_id: string;
  account_id: string;
  name: string;
  schedule_type: string;
  schedule_expression?: string | null;
  cron_expression?: string | null;
  interval_seconds?: number | null;
  timezone: string;
  status: string;
  run_count: number;
  success_count: number;
  failure_count: number;
  skipped_count: number;
  missed_count: number;
  consecutive_failures: number;
  last_run_at?: string | null;
  next_run_at?: string | null;
  paused_at?: string | null;
  paused_by?: string | null;
  pause_note?: string | null;
}

export interface ScheduleDetails extends Schedule {
  next_fire_times: string[];
  recent_runs: ExecutionView[];
  counters: {
    runs: number;
    successes: number;
    failures: number;
    skipped: number;
    missed: number;
    consecutive_failures: number;
  };
  timing_error?: string;
}

export interface Account {
  account_id: string;
  tenant_id: string;
  account_name: string;
  provider_type: string | null;
  account_number: string | null;
  status: string;
  onboarding_status: string;
  validated_offline: boolean;
  last_validated_at: string | null;
  validation_error: { code: string; message: string; failed_at: string | null } | null;
  onboarding_error: { code: string; message: string } | null;
}
