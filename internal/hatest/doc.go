// Package hatest holds the failover test: a three-node PostgreSQL 15
// cluster managed by Patroni (deploy/patroni/patroni.yml) over a
// three-member etcd, all on loopback addresses 127.0.0.2–127.0.0.4, two
// mediationd replicas reaching it through a multi-host DATABASE_URL with
// target_session_attrs=read-write, and the concurrency checker
// (internal/checker) driving load through both while a fault is injected:
// kill -9 of the primary's postmaster, SIGSTOP of the leader's Patroni, a
// planned switchover, or the loss of etcd's quorum. Afterwards the checker's
// verifier must find no violation.
//
// The test runs only when MEDIATION_FAILOVER=1 (make failover); it needs
// root (PostgreSQL, Patroni and etcd run as the unprivileged postgres
// account) and the Debian packages patroni, etcd-server and etcd-client.
// Every process it starts, it stops, also when it fails.
package hatest
