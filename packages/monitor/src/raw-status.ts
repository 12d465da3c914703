import { waitStatusOfExitCode } from '@pegasus-ts/kickstart/wait-status';

/** jobstate exit code (128+N for signal N, -1 unknown) -> raw wait status, as stampede stores it. */
export const rawStatus = waitStatusOfExitCode;
