// Recognizes constraint violations from every supported driver (better-sqlite3 and pg), the only driver-specific bit.

function errorCode(reason: unknown): string | undefined {
  if (typeof reason !== "object" || reason === null) return undefined;
  const code = (reason as { code?: unknown }).code;
  return typeof code === "string" ? code : undefined;
}

/** A unique or primary key constraint was violated. */
export function isUniqueViolation(reason: unknown): boolean {
  const code = errorCode(reason);
  return code === "SQLITE_CONSTRAINT_UNIQUE" || code === "SQLITE_CONSTRAINT_PRIMARYKEY" || code === "23505";
}

/** A foreign key referenced a row that does not exist. */
export function isForeignKeyViolation(reason: unknown): boolean {
  const code = errorCode(reason);
  return code === "SQLITE_CONSTRAINT_FOREIGNKEY" || code === "23503";
}
