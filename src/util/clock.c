/* clock — monotonic seconds and millisecond sleeps (clock.h). */
#include "util/clock.h"

#include <errno.h>
#include <time.h>

double clock_mono_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

void clock_sleep_ms(int ms)
{
	if (ms <= 0)
		return;
	struct timespec ts = {ms / 1000, (long)(ms % 1000) * 1000000};
	while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
		; /* the whole time even when a signal (SIGCHLD...) comes */
}
