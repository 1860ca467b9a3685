/* log — diagnostics to stderr and fatal() for broken invariants.
 *
 * log_level filters messages (default LOG_INFO); thread-safe (one write(2)
 * per line). fatal() is only for broken invariants and impossible states:
 * expected failures return error codes instead. */
#ifndef ANTIDOTE_UTIL_LOG_H
#define ANTIDOTE_UTIL_LOG_H

enum log_level { LOG_ERR = 0, LOG_WARN = 1, LOG_INFO = 2, LOG_DEBUG = 3 };

extern int log_level;

void log_msg(int level, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
_Noreturn void fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#define log_err(...) log_msg(LOG_ERR, __VA_ARGS__)
#define log_warn(...) log_msg(LOG_WARN, __VA_ARGS__)
#define log_info(...) log_msg(LOG_INFO, __VA_ARGS__)
#define log_debug(...) do { if (log_level >= LOG_DEBUG) log_msg(LOG_DEBUG, __VA_ARGS__); } while (0)

#endif
