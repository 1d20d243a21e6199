/*
 * lt_duration: the one parser of duration texts ("1m30s", "250ms").
 */
#ifndef LT_DURATION_H_INCLUDED
#define LT_DURATION_H_INCLUDED

#include <stdint.h>

typedef enum {
    /* looklook's own form (config files, looklook-cli): numbers (with
     * decimals) each followed by ms, s, m, h or d, summed; a bare number is
     * seconds; leading blanks are skipped */
    LT_DUR_LOOKLOOK,
    /* Go's time.ParseDuration form, as asynq's "@every" reads it: units ns,
     * us (or µs), ms, s, m, h, no days, no bare number but "0", no blanks;
     * looklook refuses negative durations (Go's leading '-') */
    LT_DUR_GO
} lt_dur_form_e;

/* Parse s in the given form into *ms (sub-millisecond parts rounded to the
 * nearest ms).  0, or -1 if malformed, negative or beyond int64 ms (*ms
 * untouched).  @locality any thread */
int lt_duration_parse(const char *s, lt_dur_form_e form, int64_t *ms);

#endif /* LT_DURATION_H_INCLUDED */
