// One name per CloudFront distribution for both edge resources: the KeyValueStore and the viewer-request function.

/** Every edge resource the service owns starts with this; a listing filtered by it finds only ours. */
export const EDGE_RESOURCE_PREFIX = 'cf-signer-edge-'

/** The KeyValueStore's and the function's name for `distributionId` (CloudFront IDs are 13-14 uppercase characters, within both 64-character limits). */
export function edgeResourceName(distributionId: string): string {
  return EDGE_RESOURCE_PREFIX + distributionId
}
