/* clock — the monotonic clock in seconds and a plain millisecond sleep, for
 * the lab's polling loops (waiting for children, deadlines). Not for hot
 * paths: those keep their own clocks in the unit they need. */
#ifndef ANTIDOTE_UTIL_CLOCK_H
#define ANTIDOTE_UTIL_CLOCK_H

/* CLOCK_MONOTONIC in seconds. */
double clock_mono_s(void);
/* Sleeps ms milliseconds, resuming after signals (callers count time by
 * their sleeps); ms <= 0 returns at once. */
void clock_sleep_ms(int ms);

#endif
