// The original API's by-serial firmware fields (isUpdated, shouldUpdate, releaseVersion), which
// its clients still read, derived from this service's own firmware records.

export interface LegacyFirmwareFields {
  isUpdated: boolean | null;
  shouldUpdate: boolean | null;
  releaseVersion: string | null;
}

/**
 * From what this service last heard from the manufacturer's cloud: the running version, and the
 * latest release as of the newest update task (each task records the release the cloud offered).
 * Unknown → null, never a guess.
 */
export function legacyFirmwareFields(runningVersion: string | null, newestTask: { status: string; toVersion: string | null } | undefined): LegacyFirmwareFields {
  const latest = newestTask?.toVersion ?? null;
  const isUpdated = runningVersion !== null && latest !== null ? runningVersion === latest : null;
  // An update under way is not one to ask for again.
  const updating = newestTask?.status === 'Pending' || newestTask?.status === 'InProgress';
  const shouldUpdate = isUpdated === null ? null : !isUpdated && !updating;
  return { isUpdated, shouldUpdate, releaseVersion: runningVersion };
}
