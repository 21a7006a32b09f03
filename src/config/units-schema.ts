/** zod types for the config's units: durations and sizes as users write them, numbers after. */
import { z } from 'zod';
import { parseDuration, parseSize } from './units.js';

const DURATION_PATTERN = /^\d+(\.\d+)?(ms|s|m|h|d)$/;
const SIZE_PATTERN = /^\d+(\.\d+)?\s*(B|KB|KiB|MB|MiB|GB|GiB)?$/;

/** A duration string (`500ms`, `10s`, `5m`, `1h`, `30d`) → milliseconds. */
export const duration = z
  // A bare number (`edgeTtl: 30`) would be ambiguous (seconds? ms?): say what is expected.
  .string({ error: (issue) => (issue.input === undefined ? undefined : 'expected a duration with its unit, such as 500ms, 10s, 5m, 1h or 30d') })
  .regex(DURATION_PATTERN, 'expected a duration such as 500ms, 10s, 5m, 1h or 30d')
  .transform((s) => parseDuration(s)!);

/** A size (bytes as a number, or `16KiB`, `1MB`) → bytes. */
export const size = z.union([z.number().int().nonnegative(), z.string().regex(SIZE_PATTERN, 'expected a size such as 16KiB or 1MB')]).transform((v) => parseSize(v)!);
