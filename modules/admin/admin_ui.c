/*
 * admin_ui: the dashboard's files (ui/), built into the module by the
 * assembler's .incbin, so the module is one file that needs nothing from
 * the network or the disk.  `/` serves ui/index.html, `/ui/NAME` the
 * others.  configure makes these objects depend on the ui files (ll_deps).
 */
#include <stdlib.h>
#include <string.h>
#include <microhttpd.h>

#include "admin.h"

/* NAME: NAME_end - NAME bytes of FILE (found through -Wa,-I, see config) */
#define ADMIN_EMBED(sym, file)                                              \
    __asm__(".pushsection .rodata\n"                                         \
            ".hidden " #sym "\n.globl " #sym "\n" #sym ":\n"                 \
            ".incbin \"" file "\"\n"                                         \
            ".hidden " #sym "_end\n.globl " #sym "_end\n" #sym "_end:\n"     \
            ".popsection\n");                                                \
    extern const char sym[], sym##_end[]

ADMIN_EMBED(ui_index_html, "ui/index.html");
ADMIN_EMBED(ui_app_js, "ui/app.js");
ADMIN_EMBED(ui_style_css, "ui/style.css");

static const struct {
    const char  *name;
    const char  *type;
    const char  *start, *end;
} ui_files[] = {
    { "index.html", "text/html; charset=utf-8", ui_index_html,
      ui_index_html_end },
    { "app.js", "text/javascript; charset=utf-8", ui_app_js, ui_app_js_end },
    { "style.css", "text/css; charset=utf-8", ui_style_css,
      ui_style_css_end },
    { NULL, NULL, NULL, NULL }
};

static void
ui_send(const char *name, admin_resp_t *resp)
{
    size_t  i, n;
    char   *copy;

    for (i = 0; ui_files[i].name != NULL; i++) {
        if (strcmp(name, ui_files[i].name) == 0) {
            n = (size_t) (ui_files[i].end - ui_files[i].start);
            copy = malloc(n ? n : 1);   /* the response frees its body */
            if (copy != NULL) {
                memcpy(copy, ui_files[i].start, n);
            }
            admin_text(resp, MHD_HTTP_OK, ui_files[i].type, copy, n);
            return;
        }
    }
    admin_error(resp, MHD_HTTP_NOT_FOUND, "not found");
}

/* GET /: the dashboard (one page; the script draws each view) */
void
admin_get_index(const admin_req_t *req, admin_resp_t *resp)
{
    ui_send("index.html", resp);
}

/* GET /ui/NAME: its script and style sheet */
void
admin_get_ui(const admin_req_t *req, admin_resp_t *resp)
{
    ui_send(req->path + strlen("/ui/"), resp);
}
