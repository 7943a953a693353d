import { useState } from 'preact/hooks';
import { api } from '../api';
import { tenantIdsOf, useApp } from '../app-context';
import { accountsOf } from '../directory';
import { formatTime } from '../format';
import { useLoad } from '../use-poll';
import { StatusBadge } from './status-badge';

/** Accounts: provider, status, last validation and its result; re-validate. */
export function AccountsPage(props: { highlight: string | null }) {
  const app = useApp();
  const [message, setMessage] = useState<string | null>(null);
  const list = useLoad(`accounts:${tenantIdsOf(app).join(',')}`, () => accountsOf(tenantIdsOf(app)), {
    intervalMs: 10_000,
  });

  const revalidate = async (accountId: string, tenantId: string, name: string) => {
    try {
      // Answered at once (202); the list shows the outcome when the validation workflow has recorded it.
      await api(
        `/api/v1/accounts/${encodeURIComponent(accountId)}/credentials/validate?tenant_id=${encodeURIComponent(tenantId)}`,
        { headers: { Prefer: 'respond-async' } },
      );
      setMessage(`Validation of ${name} started`);
      list.reload();
    } catch (error) {
      setMessage((error as Error).message);
    }
  };

  return (
    <section aria-labelledby="accounts-title">
      <h1 id="accounts-title">Accounts</h1>
      {message && <p role="status">{message}</p>}
      {list.error && (
        <p role="alert" class="error">
          {list.error}
        </p>
      )}
      <table aria-label="Accounts">
        <thead>
          <tr>
            <th scope="col">Account</th>
            <th scope="col">Provider</th>
            <th scope="col">Status</th>
            <th scope="col">Last validation</th>
            <th scope="col">Result</th>
            <th scope="col">Runs</th>
            {app.me.may.operate && <th scope="col">Actions</th>}
          </tr>
        </thead>
        <tbody>
          {(list.data ?? []).map((account) => (
            <tr key={account.account_id} class={props.highlight === account.account_id ? 'highlight' : ''}>
              <td>
                {account.account_name}
                <div class="muted">{account.account_number ?? account.account_id}</div>
              </td>
              <td>{account.provider_type ?? '—'}</td>
              <td>
                <StatusBadge status={account.status} />
                <div class="muted">onboarding {account.onboarding_status}</div>
              </td>
              <td>{formatTime(account.last_validated_at)}</td>
              <td>
                {account.validation_error ? (
                  <span class="error">
                    {account.validation_error.code}: {account.validation_error.message}
                  </span>
                ) : account.last_validated_at ? (
                  account.validated_offline ? (
                    'valid (checked offline)'
                  ) : (
                    'valid'
                  )
                ) : (
                  '—'
                )}
              </td>
              <td>
                <a href={`#/runs?account=${account.account_id}`}>runs</a>
              </td>
              {app.me.may.operate && (
                <td>
                  <button
                    type="button"
                    disabled={account.status !== 'active'}
                    onClick={() =>
                      void revalidate(account.account_id, account.tenant_id, account.account_name)
                    }
                    aria-label={`Re-validate ${account.account_name}`}
                  >
                    Re-validate
                  </button>
                </td>
              )}
            </tr>
          ))}
        </tbody>
      </table>
    </section>
  );
}
