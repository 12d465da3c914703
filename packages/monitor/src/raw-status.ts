/** jobstate exit code (128+N for signal N, -1 unknown) -> raw wait status, as stampede stores it. */
export function rawStatus(exit: number): number {
  if (!Number.isInteger(exit) || exit < 0) return -1;
  if (exit > 128 && exit < 128 + 65) return exit - 128;
  return (exit & 0xff) << 8;
}
