// Package deploy holds what an operator installs mediationd with: the
// systemd units (systemd/), the Kubernetes manifests (k8s/), the container
// image definition (Containerfile), the reference Patroni and etcd
// configuration of the database cluster (patroni/, which the failover test
// in internal/hatest runs), the pgBackRest configurations and backup units
// (pgbackrest/) and the scripts the build and the tests use. It has no
// code of its own: its tests check those files against the service
// (systemd-analyze verify, strict decoding with the Kubernetes API types,
// the probes and settings against the code, pgBackRest's options).
package deploy
