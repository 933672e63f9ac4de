// compose-config loads a Compose file the way `docker compose config` does, with
// compose-go (the library Docker Compose itself uses), and prints the resolved project as JSON.
//
// Loading validates the file against the Compose Specification's JSON schema embedded in
// compose-go, interpolates variables, resolves YAML anchors and merge keys, normalizes, and
// checks consistency (depends_on, volumes, networks, secrets and configs that are referenced
// must exist; no dependency cycles). Any problem exits 1 with compose-go's message.
//
// No Docker engine is needed. Usage: compose-config <compose file> [project dir]
package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/compose-spec/compose-go/v2/cli"
)

func main() {
	if len(os.Args) < 2 || len(os.Args) > 3 {
		fmt.Fprintln(os.Stderr, "usage: compose-config <compose file> [project dir]")
		os.Exit(2)
	}
	file, err := filepath.Abs(os.Args[1])
	if err != nil {
		fail(err)
	}
	dir := filepath.Dir(file)
	if len(os.Args) == 3 {
		dir = os.Args[2]
	}
	opts, err := cli.NewProjectOptions(
		[]string{file},
		cli.WithWorkingDirectory(dir),
		cli.WithOsEnv,
		cli.WithDotEnv,
		cli.WithInterpolation(true),
		cli.WithNormalization(true),
		cli.WithConsistency(true),
		cli.WithResolvedPaths(true),
	)
	if err != nil {
		fail(err)
	}
	project, err := opts.LoadProject(context.Background())
	if err != nil {
		fail(err)
	}
	out, err := project.MarshalJSON()
	if err != nil {
		fail(err)
	}
	os.Stdout.Write(out)
	os.Stdout.Write([]byte("\n"))
}

func fail(err error) {
	fmt.Fprintf(os.Stderr, "compose-config: %v\n", err)
	os.Exit(1)
}
