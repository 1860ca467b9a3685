# resolve_lib.bash — helpers shared by the resolve_*.sh e2e scripts (sourced
# after lib.sh and e2e_init; not a test itself: scripts/test.sh runs *.sh).
#
#   resolver_start LABEL ARGS...   antidote resolve on a free 127.0.0.1 port
#                                  with ARGS; sets ${LABEL}_PORT, ${LABEL}_PID,
#                                  ${LABEL}_LOG; waits until it answers
#   resolver_stats LABEL           SIGUSR1, then waits for the report lines
#   stat_of LABEL KIND FIELD       FIELD=N from the last "resolve: KIND" line of
#                                  the log (KIND: "clients:", "upstream ADDR:",
#                                  "cache:"...), after resolver_stats
#   rdig LABEL ARGS...             dig @resolver, 1 try, 2 s timeout
RES_ZONE_FILE=$E2E_ROOT/tests/data/resolve/resolve.test.zone
RES_ZONE=resolve.test=$RES_ZONE_FILE

resolver_start() {
	local label=$1; shift
	local try port pid log=$E2E_TMP/$label.log i
	for try in 1 2 3 4 5; do
		port=$(pick_port) || return 1
		"$ANTIDOTE" resolve --listen "127.0.0.1:$port" "$@" >"$log" 2>&1 </dev/null &
		pid=$!
		E2E_PIDS+=("$pid")
		for ((i = 0; i < 50; i++)); do
			kill -0 "$pid" 2>/dev/null || break
			# ANY is answered locally (RFC 8482): no upstream traffic
			if dig @127.0.0.1 -p "$port" probe.invalid ANY +tries=1 +time=1 2>/dev/null |
				has -E 'status: (NOERROR|REFUSED)'; then
				printf -v "${label}_PORT" '%s' "$port"
				printf -v "${label}_PID" '%s' "$pid"
				printf -v "${label}_LOG" '%s' "$log"
				echo "# started resolver $label pid $pid on 127.0.0.1:$port: $*"
				return 0
			fi
			sleep 0.1
		done
		kill "$pid" 2>/dev/null
		wait "$pid" 2>/dev/null
		grep -qi 'in use' "$log" || { tail -5 "$log" >&2; return 1; }
	done
	return 1
}

resolver_stats() {
	local pidv=${1}_PID logv=${1}_LOG n0 i
	n0=$(grep -c '^resolve: server:' "${!logv}")
	kill -USR1 "${!pidv}" 2>/dev/null || return 1
	# the report waits up to 1 s for the workers' snapshots; its server line
	# comes last
	for ((i = 0; i < 200; i++)); do
		[ "$(grep -c '^resolve: server:' "${!logv}")" -gt "$n0" ] && return 0
		sleep 0.05
	done
	fail "$1: no stats report within 10 s of SIGUSR1"
	return 1
}

stat_of() {
	local logv=${1}_LOG
	grep "^resolve: $2" "${!logv}" | tail -n 1 | grep -Eo "(^| )$3=[0-9]+" | head -n 1 | cut -d= -f2
}

rdig() {
	local portv=${1}_PORT; shift
	dig @127.0.0.1 -p "${!portv}" +tries=1 +time=2 "$@"
}
