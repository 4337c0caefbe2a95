/* cmd_project.c - promise project add|list STORE ... */
#include <getopt.h>
#include <stdio.h>
#include <string.h>

#include "cli/cli.h"
#include "cli/cli_audit.h"
#include "promise/access.h"

/* "YYYY-MM-DD" -> YYYYMMDD, or -1 (a real Gregorian date, year 1000-9999). */
static int print_project(void *ud, const pm_project_info_t *p)
{
    (void)ud;
    printf("%s\t%s\t%s\t%s\t%04d-%02d-%02d\n", p->name, p->sources, p->data_types, p->purpose,
           p->expires / 10000, p->expires / 100 % 100, p->expires % 100);
    return 0;
}

static int project_add(int argc, char **argv)
{
    static const struct option longopts[] = {{"sources", required_argument, NULL, 's'},
                                             {"data-types", required_argument, NULL, 'd'},
                                             {"purpose", required_argument, NULL, 'p'},
                                             {"expires", required_argument, NULL, 'e'},
                                             {NULL, 0, NULL, 0}};
    pm_project_spec_t spec = {0};
    const char *expires = NULL;
    optind = 0;
    opterr = 0;
    int c;
    while ((c = getopt_long(argc, argv, "", longopts, NULL)) != -1) {
        switch (c) {
        case 's': spec.sources = optarg; break;
        case 'd': spec.data_types = optarg; break;
        case 'p': spec.purpose = optarg; break;
        case 'e': expires = optarg; break;
        default:
            return pm_cli_usage("project", "unknown option or missing value '%s'",
                                argv[optind - 1]);
        }
    }
    if (argc - optind != 2)
        return pm_cli_usage("project", argc - optind < 2 ? "project add needs STORE and NAME"
                                                         : "too many arguments");
    if (!spec.sources || !spec.data_types || !spec.purpose || !expires)
        return pm_cli_usage("project", "project add needs --sources, --data-types, --purpose "
                                       "and --expires");
    if ((spec.expires = pm_cli_parse_date(expires, 0)) < 0)
        return pm_cli_usage("project", "invalid --expires '%s': expected YYYY-MM-DD", expires);
    spec.name = argv[optind + 1];
    pm_ctx_t *ctx = pm_cli_ctx("project");
    pm_store_t *st = NULL;
    int64_t aid = 0;
    int rc = pm_store_open(ctx, argv[optind], PM_STORE_RDWR, &st);
    if (rc >= 0 && (rc = pm_cli_audit(st, "project add", argc, argv, spec.name, &aid)) >= 0) {
        rc = pm_access_project_add(st, &spec);
        rc = pm_cli_audit_done(st, aid, rc, 0, 0, NULL);
    }
    int status = PM_EXIT_OK;
    if (rc < 0)
        status = pm_cli_fail("project", ctx, rc);
    else
        printf("project '%s' added\n", spec.name);
    pm_store_close(st);
    pm_ctx_free(ctx);
    return status;
}

static int project_list(int argc, char **argv)
{
    if (argc != 2)
        return pm_cli_usage("project", argc < 2 ? "project list needs STORE" : "too many arguments");
    pm_ctx_t *ctx = pm_cli_ctx("project");
    pm_store_t *st = NULL;
    int64_t aid = 0;
    int rc = pm_store_open(ctx, argv[1], PM_STORE_RDONLY, &st);
    if (rc >= 0 && (rc = pm_cli_audit(st, "project list", argc, argv, NULL, &aid)) >= 0)
        rc = pm_cli_audit_done(st, aid, 0, 0, 0, NULL);
    if (rc >= 0)
        rc = pm_access_project_each(st, print_project, NULL);
    int status = rc < 0 ? pm_cli_fail("project", ctx, rc) : PM_EXIT_OK;
    pm_store_close(st);
    pm_ctx_free(ctx);
    return status;
}

static const struct {
    const char *name;
    int (*run)(int argc, char **argv);
} subs[] = {{"add", project_add}, {"list", project_list}};

static int run(int argc, char **argv)
{
    if (argc < 2)
        return pm_cli_usage("project", "missing subcommand: add or list");
    for (size_t i = 0; i < sizeof subs / sizeof *subs; i++)
        if (strcmp(argv[1], subs[i].name) == 0)
            return subs[i].run(argc - 1, argv + 1);
    return pm_cli_usage("project", "unknown subcommand '%s': use add or list", argv[1]);
}

const pm_cli_cmd_t pm_cmd_project = {
    "project",
    "add and list approved projects",
    "usage: promise project add STORE NAME --sources A,B --data-types LIST\n"
    "                           --purpose DUO:NNNNNNN[,...] --expires YYYY-MM-DD\n"
    "       promise project list STORE\n"
    "\n"
    "A project is an approved use of the data: the sources it may read (sample\n"
    "sources such as SCAPIS or GMS-Stockholm), the data types (genotypes,\n"
    "registry, omics), its purpose as Data Use Ontology codes (for example\n"
    "DUO:0000006 health/medical/biomedical research, DUO:0000042 general\n"
    "research use, DUO:0000018 not-for-profit use only; a project without a\n"
    "not-for-profit code counts as commercial for consent), and the last day\n"
    "it may use data. Each project gets its own random key: its extracts carry\n"
    "project-specific pseudonyms that no other project can link.\n"
    "\n"
    "'list' prints NAME, SOURCES, DATA-TYPES, PURPOSE and EXPIRES,\n"
    "tab-separated. Both are recorded in the audit log.\n"
    "\n"
    "Exit status: 0 done, 1 usage error (including a malformed list, purpose or\n"
    "date), 2 bad input (e.g. the name is taken).\n",
    run,
};
