import type { ProviderType } from '../../schemas/common';
import type { Config } from '../../schemas/config';

/** The legacy `*_ENGINE_URL` variables, by provider (unset providers have no engine). */
export function engineUrlsFrom(config: Config): Partial<Record<ProviderType, string>> {
  const urls: Partial<Record<ProviderType, string | undefined>> = {
    aws: config.AWS_ENGINE_URL,
    azure: config.AZURE_ENGINE_URL,
    gcp: config.GCP_ENGINE_URL,
    alicloud: config.ALICLOUD_ENGINE_URL,
    oci: config.OCI_ENGINE_URL,
    ibm: config.IBM_ENGINE_URL,
  };
  return Object.fromEntries(Object.entries(urls).filter(([, url]) => url !== undefined)) as Partial<
    Record<ProviderType, string>
  >;
}
