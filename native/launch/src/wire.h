/*
 * Wire format between launch.node (the Node side) and pegasus-ts-spawner.
 * The JavaScript side of the same format is native/launch/wire.js; README.md documents both.
 *
 * Every message is a frame: u32 total length (header included), u32 type, payload.
 * Integers and doubles are little-endian (both ends run on the same machine).
 * A string is: u32 byte length, the bytes, one NUL byte (so the spawner can use it in place).
 */
#ifndef PEGASUS_TS_WIRE_H
#define PEGASUS_TS_WIRE_H

#define WIRE_MAX_FRAME (64u * 1024u * 1024u)

/* Sent first in SETUP; the spawner exits (65) on a mismatch (a stale build against newer JS).
 * 2: LAUNCH carries `after`, results carry the "cancelled" flag. 3: SETUP carries holdUs. */
#define WIRE_VERSION 3u

/* Node -> spawner */
/* u32 version, str spoolDir ("" = memfd), u32 holdUs (how long the result of a task whose successor
 * started may be held back, 0 = never), u32 flags (1 = base env given), u32 n, n x str "K=V" */
#define WIRE_REQ_SETUP 1
/* u32 id, u32 after (0 = none: start now), then see start_launch() in spawner.c and README.md */
#define WIRE_REQ_LAUNCH 2
/* u32 id, i32 signal: sent to the task's process group; cancels a task still waiting for `after` */
#define WIRE_REQ_SIGNAL 3

/* spawner -> Node */
#define WIRE_RES_RESULT 1

/* launch request flags */
#define WIRE_LAUNCH_CLEAR_ENV 1u

/* stdio target kinds */
#define WIRE_STDIO_INHERIT 0u
#define WIRE_STDIO_NULL 1u
#define WIRE_STDIO_FILE 2u   /* truncate (stdout/stderr), read (stdin) */
#define WIRE_STDIO_APPEND 3u
#define WIRE_STDIO_CAPTURE 4u

/* failure stage of a launch failure (result errno != 0) */
#define WIRE_STAGE_NONE 0u
#define WIRE_STAGE_SPAWN 1u   /* fork/posix_spawn itself failed (EAGAIN, ENOMEM, ...) */
#define WIRE_STAGE_EXEC 2u    /* execve failed: ENOENT, EACCES, ENOEXEC, ... */
#define WIRE_STAGE_CWD 3u     /* chdir to the working directory failed */
#define WIRE_STAGE_STDIO 4u   /* opening a stdio file failed */
#define WIRE_STAGE_CAPTURE 5u /* creating a capture temp file failed */
#define WIRE_STAGE_LIMITS 6u  /* setrlimit / sched_setaffinity failed */
#define WIRE_STAGE_REQUEST 7u /* the request was invalid (too many captures, bad fd, ...) */

/* result flags */
#define WIRE_RESULT_TIMED_OUT 1u
#define WIRE_RESULT_CANCELLED 2u /* never started: cancelled while waiting for its `after` (pid 0, raw -1) */

/* capture slots in a result */
#define WIRE_SLOT_STDOUT 0u
#define WIRE_SLOT_STDERR 1u
/* 2 + i: extra capture i in request order */

#define WIRE_MAX_EXTRA 16

#endif
