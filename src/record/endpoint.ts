/**
 * The route template of a request when the framework gave none: the path with
 * its ids collapsed, so `/users/123` and `/users/456` count as one endpoint.
 */
const ID_SEGMENT: readonly RegExp[] = [
  /^\d+$/, // 123
  /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i, // UUID
  /^[0-9a-f]{16,}$/i, // long hex (object ids, hashes)
  /^[0-9A-HJKMNP-TV-Z]{26}$/, // ULID
  /^[^@/]+@[^@/]+$/, // email in a path
  // Prefixed ids (cus_NffrFeUfNV2Hib, in_1022): the part after the prefix has a digit or mixed
  // case, so that words joined by an underscore (user_profile, api_v2) stay endpoints.
  /^[a-z]{2,8}_(?=[A-Za-z]*\d)[A-Za-z0-9]{3,}$/,
  /^[a-z]{2,8}_(?=[A-Za-z0-9]*[A-Z])(?=[A-Za-z0-9]*[a-z])[A-Za-z0-9]{8,}$/,
  /^(?=.*\d)[A-Za-z0-9_-]{20,}$/, // long opaque tokens with digits
  /^\d{4}-\d{2}-\d{2}$/, // dates
];

export function collapsePath(path: string): string {
  const clean = path.split(/[?#]/)[0] || '/';
  return clean
    .split('/')
    .map((segment) => {
      if (segment === '') return segment;
      let decoded = segment;
      try {
        decoded = decodeURIComponent(segment);
      } catch {
        // keep the raw segment
      }
      return ID_SEGMENT.some((re) => re.test(decoded)) ? '{id}' : segment;
    })
    .join('/');
}
