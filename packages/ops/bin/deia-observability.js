#!/usr/bin/env node
// The CLI's launcher. It is a committed file (not the build output itself) so a package manager
// can link the bin on install in a fresh checkout of the monorepo, before the first build.
import '../dist/cli.js';
