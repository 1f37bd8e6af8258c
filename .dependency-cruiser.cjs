// Which room may import which (ARCHITECTURE.md). `npm run lint` fails on any of these.
/** @type {import('dependency-cruiser').IConfiguration} */
const forbid = (name, comment, from, to) => ({ name, comment, severity: "error", from: { path: from }, to });

module.exports = {
  forbidden: [
    { name: "no-circular", severity: "error", comment: "an import cycle", from: {}, to: { circular: true } },
    forbid("lib-is-the-floor", "lib/ imports nothing of ours", "^lib/", {
      path: "^(bin|runner|infra|stacks|envsvc|submit|scripts|test)/",
    }),
    forbid("runner-stands-alone", "the job depends on lib/ only", "^runner/", {
      path: "^(bin|infra|stacks|envsvc|submit|scripts|test)/",
    }),
    forbid("runner-core-is-pure", "core/: records, validation, transform; no I/O", "^runner/core/", {
      path: [
        "^runner/(?!core/|schema/)",
        "^node_modules/mysql2",
        "^(node:)?(fs|net|child_process|worker_threads)",
      ],
      pathNot: "^runner/core/",
    }),
    forbid("runner-schema-is-lowest", "schema/ imports nothing else of the runner", "^runner/schema/", {
      path: "^runner/(?!schema/)",
    }),
    forbid("sources-feed-core", "adapters depend on core, never on the sink", "^runner/sources/", {
      path: "^runner/sink/",
    }),
    forbid("infra-is-components", "components take inputs; they never read stacks or run jobs", "^infra/", {
      path: "^(bin|runner|stacks|envsvc|submit|scripts|test)/",
    }),
    forbid("stacks-compose-infra", "stack programs use infra/ and lib/", "^stacks/", {
      path: "^(bin|runner|envsvc|submit|scripts|test)/",
    }),
    forbid("envsvc-stands-alone", "the service uses lib/, infra/ and the runner's public entry", "^envsvc/", {
      path: "^(bin|submit|scripts|test|stacks/plan)/",
    }),
    forbid("envsvc-core-is-pure", "envsvc/core decides; ports and routers act", "^envsvc/core/", {
      path: ["^envsvc/(http|ports)/", "^node_modules/(mysql2|express|@slack|@pulumi|@aws-sdk)"],
    }),
    forbid(
      "submit-stands-alone",
      "submit/ drives Batch; it does not reach into envsvc or scripts",
      "^submit/",
      {
        path: "^(bin|envsvc|scripts|test)/",
      },
    ),
    forbid(
      "nothing-imports-bin-or-tests",
      "bin/ and test/ are leaves",
      "^(lib|runner|infra|stacks|envsvc|submit|scripts)/",
      {
        path: "^(bin|test)/",
      },
    ),
  ],
  options: {
    doNotFollow: { path: "node_modules" },
    exclude: { path: "^(node_modules|\\.cache|dist|out|\\.scratch)/" },
    tsPreCompilationDeps: true,
    tsConfig: { fileName: "tsconfig.json" },
    enhancedResolveOptions: { extensions: [".ts", ".js"] },
  },
};
