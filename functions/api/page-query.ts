import * as z from 'zod/mini';

/** A page size query parameter: a whole number from 1 to 100. */
const PageSizeSchema = z.coerce
  .number({ message: 'must be a number' })
  .check(z.int('must be a whole number'), z.gte(1, 'must be 1 to 100'), z.lte(100, 'must be 1 to 100'));

/** A page size query parameter, `fallback` when absent. */
export const PageLimitSchema = (fallback: number) => z._default(PageSizeSchema, fallback);

/** The next_cursor of a previous page, passed back as it was. */
export const PageCursorSchema = z
  .string()
  .check(z.minLength(1, 'must not be empty'), z.maxLength(2048, 'must be at most 2048 characters'));

/** `limit` and `cursor` only, for a listing whose repository picks the page size when none is asked. */
export const PageQuerySchema = z.strictObject({
  limit: z.optional(PageSizeSchema),
  cursor: z.optional(PageCursorSchema),
});
