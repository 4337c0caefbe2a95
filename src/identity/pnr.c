/*
 * pnr.c - Swedish personnummer and samordningsnummer (see
 * promise/identity.h and docs/identity.md).
 *
 * The parser is strict: it accepts exactly the spellings the Tax Agency
 * prints (10 or 12 ASCII digits, optionally '-' or '+' before the last
 * four) and nothing that merely looks like one (spaces, other Unicode
 * digits, reserve numbers). It never records the number anywhere: the
 * caller gets a code, and pm_pnr_strerror() gives a reason without it.
 */
#include "promise/identity.h"

#include <string.h>
#include <time.h>

/* More characters than this cannot be a number in any spelling; the scan
 * stops there so that a huge field costs nothing. */
#define PNR_SCAN_MAX 32
/* The earliest birth year accepted in a 12-digit form. */
#define PNR_MIN_YEAR 1800

static int is_leap(int y) { return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0; }

static int days_in_month(int y, int m)
{
    static const int dim[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    return m == 2 && is_leap(y) ? 29 : dim[m - 1];
}

static int num(const char *d, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++)
        v = v * 10 + (d[i] - '0');
    return v;
}

/* Luhn over the 10-digit form YYMMDDNNNC: weights 2,1,2,1,... on the
 * first nine digits, the digit sums added, check = (10 - sum % 10) % 10. */
static int luhn_ok(const char *d10)
{
    int sum = 0;
    for (int i = 0; i < 9; i++) {
        int v = (d10[i] - '0') * (i % 2 == 0 ? 2 : 1);
        sum += v > 9 ? v - 9 : v;
    }
    return (10 - sum % 10) % 10 == d10[9] - '0';
}

int pm_pnr_today(void)
{
    time_t now = time(NULL);
    struct tm tm;
    if (!localtime_r(&now, &tm))
        return 20000101;
    return (tm.tm_year + 1900) * 10000 + (tm.tm_mon + 1) * 100 + tm.tm_mday;
}

static int is_ascii_letter(unsigned char c) { return (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z'); }

int pm_pnr_parse(const char *s, int ref_date, pm_pnr_t *out)
{
    if (out)
        memset(out, 0, sizeof *out);
    if (!s || !*s)
        return PM_PNR_EMPTY;
    if (ref_date <= 0)
        ref_date = pm_pnr_today();

    /* 1. Shape: digits (and letters, for reserve numbers) with at most one
     * separator, which must stand before the last four. */
    char body[13];
    int n = 0, sep = 0, seppos = -1, first_letter = -1;
    for (size_t i = 0; s[i]; i++) {
        unsigned char c = (unsigned char)s[i];
        if (i >= PNR_SCAN_MAX)
            return PM_PNR_LENGTH;
        if ((c >= '0' && c <= '9') || is_ascii_letter(c)) {
            if (is_ascii_letter(c) && first_letter < 0)
                first_letter = n;
            if (n < (int)sizeof body)
                body[n] = (char)c;
            n++;
        } else if (c == '-' || c == '+') {
            if (sep)
                return PM_PNR_SEPARATOR;
            sep = c;
            seppos = n;
        } else {
            return PM_PNR_CHARS; /* space, control, punctuation, any non-ASCII byte */
        }
    }
    if (n != 10 && n != 12)
        return PM_PNR_LENGTH;
    if (sep && seppos != n - 4)
        return PM_PNR_SEPARATOR;
    if (first_letter >= 0)
        return first_letter >= n - 4 ? PM_PNR_RESERVE : PM_PNR_CHARS;

    /* 2. Birth date, with the century for 10-digit forms. */
    const char *d10 = body + (n == 12 ? 2 : 0); /* YYMMDDNNNC */
    int ref_year = ref_date / 10000;
    int year;
    if (n == 12) {
        year = num(body, 4);
    } else {
        /* '-' or none: the latest year ending in YY that is not after
         * ref_year (age in years 0..99); '+': the latest one at least 100
         * years before ref_year. */
        int base = sep == '+' ? ref_year - 100 : ref_year;
        int yy = num(d10, 2);
        year = base - (((base - yy) % 100) + 100) % 100;
    }
    int month = num(d10 + 2, 2), day = num(d10 + 4, 2), coordination = 0;
    if (day > 60) {
        coordination = 1;
        day -= 60;
    }
    if (year < PNR_MIN_YEAR || year > 9999 || month < 1 || month > 12 || day < 1 ||
        day > days_in_month(year, month))
        return PM_PNR_DATE;
    /* A 12-digit form carries its century; '+' then only confirms it. */
    if (n == 12 && sep == '+' && ref_year - year < 100)
        return PM_PNR_SEPARATOR;

    /* 3. Birth number and check digit. */
    if (d10[6] == '0' && d10[7] == '0' && d10[8] == '0')
        return PM_PNR_BIRTHNUM;
    if (!luhn_ok(d10))
        return PM_PNR_CHECKDIGIT;
    if (year * 10000 + month * 100 + day > ref_date)
        return PM_PNR_FUTURE;

    if (out) {
        out->canon[0] = (char)('0' + year / 1000);
        out->canon[1] = (char)('0' + year / 100 % 10);
        memcpy(out->canon + 2, d10, 10);
        out->canon[12] = '\0';
        out->year = year;
        out->month = month;
        out->day = day;
        out->sex = (d10[8] - '0') % 2 ? 'M' : 'F';
        out->coordination = coordination;
    }
    return PM_PNR_OK;
}

const char *pm_pnr_strerror(int err)
{
    switch (err) {
    case PM_PNR_OK:
        return "valid";
    case PM_PNR_EMPTY:
        return "empty";
    case PM_PNR_LENGTH:
        return "not 10 or 12 digits";
    case PM_PNR_CHARS:
        return "characters other than ASCII digits and one '-' or '+'";
    case PM_PNR_SEPARATOR:
        return "misplaced separator, or '+' for someone under 100";
    case PM_PNR_DATE:
        return "no such birth date";
    case PM_PNR_BIRTHNUM:
        return "birth number 000";
    case PM_PNR_CHECKDIGIT:
        return "wrong check digit";
    case PM_PNR_RESERVE:
        return "reserve number (letters), not a personnummer";
    case PM_PNR_FUTURE:
        return "birth date in the future";
    default:
        return "invalid";
    }
}
