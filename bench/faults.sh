#!/bin/sh
# Fault figures (README, Reliability): redisq + 2 workers under load through
# kill -9 of workers and of the master, 30 reloads, a Redis outage and a
# wrong-typed key; prints tasks lost, stranded and run twice, and the asynq
# invariant problems left.  About two minutes (retried tasks wait out
# asynq's retry delay).  LL_OBJS = build dir (make test-build); needs
# redis-server.
here=$(dirname "$0")
exec perl -I "$here/../t/lib" "$here/faults.pl"
