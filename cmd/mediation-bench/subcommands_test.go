package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// TestSubcommandsRefuseBadFlags: the dataset and queries subcommands say
// what is wrong with their flags, and how to fix it, before touching any
// database or server.
func TestSubcommandsRefuseBadFlags(t *testing.T) {
	for _, tc := range []struct {
		name string
		run  func(context.Context, []string, *bytes.Buffer, *bytes.Buffer) error
		args []string
		want string
	}{
		{"dataset without a database", datasetCmd, nil, "--database-url is required"},
		{"dataset with a stray argument", datasetCmd, []string{"extra"}, "unexpected arguments: extra"},
		{"dataset with a bad time", datasetCmd, []string{"--database-url", "postgres://127.0.0.1:1/x", "--now", "yesterday"}, "give an RFC 3339 time"},
		{"queries without a database", queriesCmd, nil, "--database-url is required"},
		{"queries with a bad format", queriesCmd, []string{"--database-url", "postgres://127.0.0.1:1/x", "--format", "csv"}, "use markdown or json"},
		{"queries off this machine", queriesCmd, []string{"--database-url", "postgres://127.0.0.1:1/x", "--grpc-addr", "192.0.2.1:9090"}, "loopback"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := tc.run(context.Background(), tc.args, &stdout, &stderr)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error = %v, want one saying %q", err, tc.want)
			}
		})
	}
}

func datasetCmd(ctx context.Context, args []string, stdout, stderr *bytes.Buffer) error {
	return runDataset(ctx, args, stdout, stderr)
}

func queriesCmd(ctx context.Context, args []string, stdout, stderr *bytes.Buffer) error {
	return runQueries(ctx, args, stdout, stderr)
}
