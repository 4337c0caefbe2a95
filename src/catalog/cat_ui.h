/*
 * cat_ui.h - the catalog table of the browser UI and the listings it
 * needs. Internal to libpromise: src/server/routes_ui.c reaches SQLite
 * only through these functions.
 *
 * Table (schema part pm_schema_ui_v1 in cat_ui.c):
 *   ui_cohort(id, project, name, expression, who, at)
 *       a cohort expression saved for a project; UNIQUE(project, name):
 *       saving a name again replaces its expression
 */
#ifndef PM_CATALOG_CAT_UI_H
#define PM_CATALOG_CAT_UI_H

#include <stdint.h>

#include "promise/store.h"

typedef struct pm_catui_cohort {
    int64_t id;
    const char *project, *name, *expression, *who, *at; /* valid during the callback */
} pm_catui_cohort_t;

/* Saves (or replaces) project/name. Works on a read-only store handle
 * too: it opens its own writable connection, as the audit log does. */
int pm_catui_cohort_save(pm_store_t *st, const char *project, const char *name,
                         const char *expression, const char *who);
/* Calls fn for the saved cohorts of project (NULL = all) in name order;
 * fn returning <0 stops. A store made before the table existed has none. */
int pm_catui_cohort_each(pm_store_t *st, const char *project,
                         int (*fn)(void *ud, const pm_catui_cohort_t *c), void *ud);
/* Calls fn for every (user, project) grant in user, project order. */
int pm_catui_grant_each(pm_store_t *st,
                        int (*fn)(void *ud, const char *user, const char *project,
                                  const char *created),
                        void *ud);

#endif
