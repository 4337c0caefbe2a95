/*
 * test_identity.c - personnummer rules, HMAC-SHA-256 (RFC 4231), key
 * files, fingerprints, pseudonyms and table pseudonymisation; and the
 * shared personnummer conformance cases ($PM_TEST_DATA/personnummer-meta).
 *
 * Every number used here is a test number: birth-number series 980-999
 * or one of the conformance cases.
 */
#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "check.h"
#include "promise/identity.h"

#define REF 20261128 /* fixed reference date for everything below */

/* ---- helpers ---- */

/* Independent Luhn: the check digit for the first nine digits of s. */
static char luhn_digit(const char *nine)
{
    int sum = 0;
    for (int i = 0; i < 9; i++) {
        int v = (nine[i] - '0') * (i % 2 ? 1 : 2);
        sum += v / 10 + v % 10;
    }
    return (char)('0' + (10 - sum % 10) % 10);
}

/* Builds "YYYYMMDD" + birth number + check digit into out (13 bytes). */
static const char *mk12(char *out, const char *date8, const char *bn3)
{
    snprintf(out, 13, "%s%s0", date8, bn3);
    out[11] = luhn_digit(out + 2);
    return out;
}

static int parse(const char *s) { return pm_pnr_parse(s, REF, NULL); }

static int parse_ref(const char *s, int ref, pm_pnr_t *p) { return pm_pnr_parse(s, ref, p); }

/* The four spellings of a 12-digit number: 12, 12 with '-', 10, 10 with sep. */
static void spell(const char *n12, char sep, char out[4][16])
{
    snprintf(out[0], 16, "%s", n12);
    snprintf(out[1], 16, "%.8s-%s", n12, n12 + 8);
    snprintf(out[2], 16, "%s", n12 + 2);
    snprintf(out[3], 16, "%.6s%c%s", n12 + 2, sep, n12 + 8);
}

/* ---- personnummer ---- */

static void test_valid_basic(void)
{
    pm_pnr_t p;
    const char *forms[] = {"198211059954", "19821105-9954", "8211059954", "821105-9954"};
    for (size_t i = 0; i < 4; i++) {
        CHECK_MSG(parse_ref(forms[i], REF, &p) == PM_PNR_OK, "form %zu", i);
        CHECK_STR(p.canon, "198211059954");
        CHECK(p.year == 1982 && p.month == 11 && p.day == 5);
        CHECK(p.sex == 'M');
        CHECK(p.coordination == 0);
    }
    CHECK(parse_ref("199012119948", REF, &p) == PM_PNR_OK);
    CHECK(p.sex == 'F');
    CHECK(p.year == 1990 && p.month == 12 && p.day == 11);
    /* NULL out: validation only */
    CHECK(pm_pnr_parse("198211059954", REF, NULL) == PM_PNR_OK);
    /* the canonical form parses to itself */
    char again[13];
    memcpy(again, p.canon, 13);
    CHECK(parse_ref(again, REF, &p) == PM_PNR_OK);
    CHECK_STR(p.canon, again);
    /* ref_date 0 = today: a number from the 1980s is valid on any day */
    CHECK(pm_pnr_parse("19821105-9954", 0, &p) == PM_PNR_OK);
    CHECK(pm_pnr_today() >= 20250101);
}

static void test_sex(void)
{
    char n[13];
    pm_pnr_t p;
    for (int d = 0; d <= 9; d++) {
        char bn[4] = {'9', '8', (char)('0' + d), '\0'};
        mk12(n, "19750612", bn);
        CHECK(parse_ref(n, REF, &p) == PM_PNR_OK);
        CHECK_MSG(p.sex == (d % 2 ? 'M' : 'F'), "birth number digit %d", d);
    }
}

static void test_check_digit(void)
{
    /* Every wrong check digit, in all four spellings, for several numbers. */
    char n[13], bad[13], forms[4][16];
    const char *valid[] = {"198211059954", "199012119948", "195705749959", mk12(n, "20240229", "985")};
    for (size_t v = 0; v < sizeof valid / sizeof *valid; v++) {
        CHECK_MSG(parse(valid[v]) == PM_PNR_OK, "%zu valid", v);
        int wrong = 0;
        for (char c = '0'; c <= '9'; c++) {
            if (c == valid[v][11])
                continue;
            memcpy(bad, valid[v], 13);
            bad[11] = c;
            spell(bad, '-', forms);
            for (int f = 0; f < 4; f++)
                CHECK_MSG(parse(forms[f]) == PM_PNR_CHECKDIGIT, "case %zu digit %c form %d", v, c,
                          f);
            wrong++;
        }
        CHECK(wrong == 9);
    }
}

static void test_transpositions(void)
{
    /* Every adjacent transposition that changes the number is refused
     * (by the date, the check digit, or the reference date). The one
     * blind spot of Luhn is 0<->9, so those pairs are left out. */
    char n[13];
    const char *valid[] = {"198211059954", mk12(n, "19750612", "986")};
    for (size_t v = 0; v < 2; v++) {
        CHECK(parse(valid[v]) == PM_PNR_OK);
        int tried = 0;
        for (int i = 0; i + 1 < 12; i++) {
            char a = valid[v][i], b = valid[v][i + 1];
            if (a == b || (a == '0' && b == '9') || (a == '9' && b == '0'))
                continue;
            char t[13];
            memcpy(t, valid[v], 13);
            t[i] = b;
            t[i + 1] = a;
            CHECK_MSG(parse(t) != PM_PNR_OK, "case %zu swap at %d", v, i);
            if (i >= 2) { /* the same in the 10-digit spelling */
                CHECK_MSG(parse(t + 2) != PM_PNR_OK, "case %zu short swap at %d", v, i);
            }
            tried++;
        }
        CHECK(tried >= 8);
    }
    /* The blind spot, documented: 0<->9 keeps the Luhn sum. */
    char a[13], b[13];
    mk12(a, "19750612", "909");
    memcpy(b, a, 13);
    b[9] = '9';
    b[10] = '0';
    CHECK(parse(a) == PM_PNR_OK && parse(b) == PM_PNR_OK && strcmp(a, b) != 0);
}

static void test_dates(void)
{
    char n[13], forms[4][16];
    pm_pnr_t p;
    /* 29 February */
    CHECK(parse(mk12(n, "20000229", "982")) == PM_PNR_OK); /* 2000: divisible by 400 */
    CHECK(parse(mk12(n, "20240229", "982")) == PM_PNR_OK);
    CHECK(parse(mk12(n, "19960229", "982")) == PM_PNR_OK);
    CHECK(parse(mk12(n, "19000229", "982")) == PM_PNR_DATE); /* 1900: not a leap year */
    CHECK(parse(mk12(n, "20230229", "982")) == PM_PNR_DATE);
    CHECK(parse(mk12(n, "20240230", "982")) == PM_PNR_DATE);
    /* The century decides: 000229-... is 2000 (leap), 000229+... is 1900 (not). */
    mk12(n, "20000229", "982");
    spell(n, '-', forms);
    for (int f = 0; f < 4; f++)
        CHECK_MSG(parse(forms[f]) == PM_PNR_OK, "form %d", f);
    spell(n, '+', forms);
    CHECK(parse(forms[3]) == PM_PNR_DATE);
    mk12(n, "19000228", "982");
    spell(n, '+', forms);
    CHECK(parse_ref(forms[3], REF, &p) == PM_PNR_OK && p.year == 1900);
    /* Other impossible dates */
    const char *bad[] = {"19751301", "19750001", "19750100", "19750431", "19750632",
                         "19751232", "19750229", "19759999"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK_MSG(parse(mk12(n, bad[i], "983")) == PM_PNR_DATE, "%s", bad[i]);
    /* Month ends */
    const char *good[] = {"19750131", "19750430", "19751231", "19750228", "17991231"};
    for (size_t i = 0; i < 4; i++)
        CHECK_MSG(parse(mk12(n, good[i], "983")) == PM_PNR_OK, "%s", good[i]);
    CHECK(parse(mk12(n, good[4], "983")) == PM_PNR_DATE); /* before 1800 */
    /* Future */
    CHECK(parse(mk12(n, "20261129", "983")) == PM_PNR_FUTURE);
    CHECK(parse(mk12(n, "20261128", "983")) == PM_PNR_OK); /* born on the reference day */
    CHECK(parse(mk12(n, "20300101", "983")) == PM_PNR_FUTURE);
}

static void test_century_and_plus(void)
{
    char n[13], forms[4][16];
    pm_pnr_t p;
    /* Born 1926-03-15: turns 100 in 2026, so in 2026 it is written with '+'. */
    mk12(n, "19260315", "984");
    spell(n, '+', forms);
    CHECK(parse_ref(forms[3], REF, &p) == PM_PNR_OK);
    CHECK_STR(p.canon, n);
    CHECK(p.year == 1926);
    /* the same digits with '-' or none mean someone born 2026-03-15 */
    spell(n, '-', forms);
    CHECK(parse_ref(forms[3], REF, &p) == PM_PNR_OK && p.year == 2026);
    CHECK(parse_ref(forms[2], REF, &p) == PM_PNR_OK && p.year == 2026);
    /* in 2025 the 1926 person was 99: '-' meant 1926 then */
    CHECK(parse_ref(forms[3], 20251231, &p) == PM_PNR_OK && p.year == 1926);
    /* 12 digits with '+': accepted from the year the person turns 100 */
    snprintf(forms[0], 16, "%.8s+%s", n, n + 8);
    CHECK(parse_ref(forms[0], REF, &p) == PM_PNR_OK && p.year == 1926);
    CHECK(parse_ref(forms[0], 20260101, &p) == PM_PNR_OK); /* before the birthday, same year */
    CHECK(parse_ref(forms[0], 20251231, &p) == PM_PNR_SEPARATOR); /* aged 99 that year */
    /* 12 digits with '-' carry their century; accepted at any age */
    CHECK(parse_ref(forms[1], REF, &p) == PM_PNR_OK && p.year == 1926);

    /* Born 1926-12-15: '+' in 2026 even before the birthday (calendar year). */
    mk12(n, "19261215", "984");
    spell(n, '+', forms);
    CHECK(parse_ref(forms[3], REF, &p) == PM_PNR_OK && p.year == 1926);
    spell(n, '-', forms);
    CHECK(parse_ref(forms[3], REF, &p) == PM_PNR_FUTURE); /* 2026-12-15 is after the ref */
    CHECK(parse_ref(forms[2], REF, &p) == PM_PNR_FUTURE);

    /* Born 1927-01-01: 99 in 2026, so '-'; '+' would mean 1827. */
    mk12(n, "19270101", "984");
    spell(n, '-', forms);
    CHECK(parse_ref(forms[3], REF, &p) == PM_PNR_OK && p.year == 1927);
    spell(n, '+', forms);
    CHECK(parse_ref(forms[3], REF, &p) == PM_PNR_OK && p.year == 1827);
    snprintf(forms[0], 16, "%.8s+%s", n, n + 8);
    CHECK(parse_ref(forms[0], REF, &p) == PM_PNR_SEPARATOR);

    /* Born 2026-11-28 (the reference day) and 2000. */
    mk12(n, "20001209", "989");
    spell(n, '-', forms);
    CHECK(parse_ref(forms[3], REF, &p) == PM_PNR_OK && p.year == 2000);
}

static void test_coordination(void)
{
    char n[13], forms[4][16];
    pm_pnr_t p;
    CHECK(parse_ref("19570574-9959", REF, &p) == PM_PNR_OK);
    CHECK(p.coordination == 1 && p.day == 14 && p.month == 5 && p.year == 1957);
    CHECK_STR(p.canon, "195705749959"); /* canonical form keeps the +60 */
    CHECK(parse_ref("730674-9982", REF, &p) == PM_PNR_OK && p.coordination && p.sex == 'F');
    mk12(n, "19750661", "987"); /* 1 June */
    CHECK(parse_ref(n, REF, &p) == PM_PNR_OK && p.coordination && p.day == 1);
    spell(n, '-', forms);
    for (int f = 0; f < 4; f++)
        CHECK(parse_ref(forms[f], REF, &p) == PM_PNR_OK && p.coordination);
    CHECK(parse(mk12(n, "19750791", "987")) == PM_PNR_OK);   /* 31 July */
    CHECK(parse(mk12(n, "19750690", "987")) == PM_PNR_OK);   /* 30 June */
    CHECK(parse(mk12(n, "19750691", "987")) == PM_PNR_DATE); /* 31 June */
    CHECK(parse(mk12(n, "19750660", "987")) == PM_PNR_DATE); /* day 0 */
    CHECK(parse(mk12(n, "19750792", "987")) == PM_PNR_DATE); /* 32 July */
    CHECK(parse(mk12(n, "19750732", "987")) == PM_PNR_DATE); /* neither */
    CHECK(parse(mk12(n, "20240289", "987")) == PM_PNR_OK);   /* 29 Feb, leap */
    CHECK(parse(mk12(n, "20230289", "987")) == PM_PNR_DATE); /* 29 Feb, not leap */
    CHECK(parse(mk12(n, "20261188", "987")) == PM_PNR_OK);   /* 28 Nov 2026 = ref */
    CHECK(parse(mk12(n, "20261189", "987")) == PM_PNR_FUTURE);
}

static void test_birth_number(void)
{
    /* "20150916-0006" passes Luhn but has birth number 000 */
    CHECK(parse("20150916-0006") == PM_PNR_BIRTHNUM);
    CHECK(parse("201509160006") == PM_PNR_BIRTHNUM);
    CHECK(parse("150916-0006") == PM_PNR_BIRTHNUM);
    char n[13];
    CHECK(parse(mk12(n, "19750612", "001")) == PM_PNR_OK); /* 001 is fine */
}

static void test_shape(void)
{
    CHECK(pm_pnr_parse(NULL, REF, NULL) == PM_PNR_EMPTY);
    CHECK(parse("") == PM_PNR_EMPTY);
    /* lengths 9, 11, 13 (and others) */
    CHECK(parse("821105995") == PM_PNR_LENGTH);
    CHECK(parse("82110599541") == PM_PNR_LENGTH);
    CHECK(parse("1982110599541") == PM_PNR_LENGTH);
    CHECK(parse("19821105-995") == PM_PNR_LENGTH);
    CHECK(parse("821105-99541") == PM_PNR_LENGTH);
    CHECK(parse("19821105-99541") == PM_PNR_LENGTH);
    CHECK(parse("1") == PM_PNR_LENGTH);
    CHECK(parse("-") == PM_PNR_LENGTH);
    /* overlong */
    char big[4096];
    memset(big, '9', sizeof big - 1);
    big[sizeof big - 1] = '\0';
    CHECK(parse(big) == PM_PNR_LENGTH);
    char twice[32];
    snprintf(twice, sizeof twice, "%s%s", "198211059954", "198211059954");
    CHECK(parse(twice) == PM_PNR_LENGTH);
    /* whitespace anywhere, including as a separator */
    const char *spaces[] = {"821105 9954", "19821105 9954", " 8211059954", "8211059954 ",
                            "821105\t9954", "8211059954\n", "821105 -9954", "8211 059954"};
    for (size_t i = 0; i < sizeof spaces / sizeof *spaces; i++)
        CHECK_MSG(parse(spaces[i]) == PM_PNR_CHARS, "space case %zu", i);
    /* other punctuation */
    CHECK(parse("821105/9954") == PM_PNR_CHARS);
    CHECK(parse("821105_9954") == PM_PNR_CHARS);
    CHECK(parse("821105.9954") == PM_PNR_CHARS);
    /* non-ASCII digits: fullwidth (U+FF10..), Arabic-Indic (U+0660..), and
     * a fullwidth hyphen-minus (U+FF0D) */
    CHECK(parse("\xef\xbc\x91\xef\xbc\x99\xef\xbc\x98\xef\xbc\x92\xef\xbc\x91\xef\xbc\x91\xef"
                "\xbc\x90\xef\xbc\x95\xef\xbc\x99\xef\xbc\x99\xef\xbc\x95\xef\xbc\x94") ==
          PM_PNR_CHARS);
    CHECK(parse("19821105-995\xd9\xa4") == PM_PNR_CHARS);
    CHECK(parse("\xd9\xa1\xd9\xa9\xd9\xa8\xd9\xa2\xd9\xa1\xd9\xa1\xd9\xa0\xd9\xa5\xd9\xa9\xd9"
                "\xa9\xd9\xa5\xd9\xa4") == PM_PNR_CHARS);
    CHECK(parse("19821105\xef\xbc\x8d" "9954") == PM_PNR_CHARS);
    CHECK(parse("198211059954\xc2\xa0") == PM_PNR_CHARS); /* no-break space */
    /* separators */
    CHECK(parse("8211-059954") == PM_PNR_SEPARATOR);
    CHECK(parse("1982110-59954") == PM_PNR_SEPARATOR);
    CHECK(parse("821105--9954") == PM_PNR_SEPARATOR);
    CHECK(parse("19821105+-9954") == PM_PNR_SEPARATOR);
    CHECK(parse("-8211059954") == PM_PNR_SEPARATOR);
    CHECK(parse("8211059954-") == PM_PNR_SEPARATOR);
    CHECK(parse("198211059954+") == PM_PNR_SEPARATOR);
}

static void test_reserve(void)
{
    /* Reserve numbers of the regions put letters in the birth number. */
    const char *reserve[] = {"19821105-T954", "821105-T954", "19821105-R123", "821105-X123",
                             "19821105T123", "821105-TF12", "19821105-XXXX", "821105-999K",
                             "821105-t954"};
    for (size_t i = 0; i < sizeof reserve / sizeof *reserve; i++)
        CHECK_MSG(parse(reserve[i]) == PM_PNR_RESERVE, "reserve case %zu", i);
    /* letters in the date are not reserve numbers, just wrong */
    CHECK(parse("82A105-9954") == PM_PNR_CHARS);
    CHECK(parse("19821I05-9954") == PM_PNR_CHARS);
    CHECK(parse("198211O59954") == PM_PNR_CHARS);
}

static void test_strerror(void)
{
    int codes[] = {PM_PNR_EMPTY,  PM_PNR_LENGTH,    PM_PNR_CHARS,      PM_PNR_SEPARATOR,
                   PM_PNR_DATE,   PM_PNR_BIRTHNUM,  PM_PNR_CHECKDIGIT, PM_PNR_RESERVE,
                   PM_PNR_FUTURE};
    for (size_t i = 0; i < sizeof codes / sizeof *codes; i++) {
        const char *s = pm_pnr_strerror(codes[i]);
        CHECK(s && *s);
        for (size_t j = 0; j < i; j++)
            CHECK(strcmp(s, pm_pnr_strerror(codes[j])) != 0);
    }
    CHECK_STR(pm_pnr_strerror(PM_PNR_CHECKDIGIT), "wrong check digit");
    CHECK(pm_pnr_strerror(-1000) != NULL);
}

static void test_failure_clears_out(void)
{
    pm_pnr_t p;
    CHECK(parse_ref("198211059954", REF, &p) == PM_PNR_OK);
    CHECK(parse_ref("198211059955", REF, &p) == PM_PNR_CHECKDIGIT);
    CHECK(p.canon[0] == '\0' && p.year == 0); /* nothing of the bad number left behind */
}

/* ---- conformance cases (personnummer/meta) ---- */

static void test_conformance(void)
{
    const char *dir = getenv("PM_TEST_DATA");
    CHECK_MSG(dir && *dir, "PM_TEST_DATA is not set: the conformance cases cannot run");
    if (!dir || !*dir)
        return;
    char path[1024];
    snprintf(path, sizeof path, "%s/personnummer-meta/list.json", dir);
    json_error_t jerr;
    json_t *root = json_load_file(path, 0, &jerr);
    CHECK_MSG(root != NULL, "cannot load %s: %s", path, jerr.text);
    if (!root)
        return;
    CHECK(json_is_array(root));
    CHECK(json_array_size(root) >= 13);
    static const char *const spellings[] = {"long_format", "short_format", "separated_format",
                                            "separated_long"};
    size_t i, n_ok = 0, n_bad = 0;
    json_t *c;
    json_array_foreach(root, i, c)
    {
        int valid = json_is_true(json_object_get(c, "valid"));
        const char *type = json_string_value(json_object_get(c, "type"));
        int male = json_is_true(json_object_get(c, "isMale"));
        int female = json_is_true(json_object_get(c, "isFemale"));
        CHECK(type && male != female);
        for (size_t s = 0; s < 4; s++) {
            const char *num = json_string_value(json_object_get(c, spellings[s]));
            CHECK_MSG(num != NULL, "case %zu has no %s", i, spellings[s]);
            if (!num)
                continue;
            pm_pnr_t p;
            int rc = pm_pnr_parse(num, REF, &p);
            /* the number is a published test number: fine to print here */
            CHECK_MSG((rc == PM_PNR_OK) == valid, "case %zu %s '%s': got %s, expected %s", i,
                      spellings[s], num, pm_pnr_strerror(rc), valid ? "valid" : "invalid");
            if (rc == PM_PNR_OK) {
                n_ok++;
                CHECK_MSG(p.sex == (male ? 'M' : 'F'), "case %zu %s sex", i, spellings[s]);
                CHECK_MSG(p.coordination == (type && strcmp(type, "con") == 0),
                          "case %zu %s type", i, spellings[s]);
            } else {
                n_bad++;
            }
        }
    }
    CHECK(n_ok >= 20 && n_bad >= 20);
    json_decref(root);
}

/* ---- HMAC-SHA-256: RFC 4231 test cases 1-7 ---- */

static void hex(const uint8_t *b, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", b[i]);
}

static void test_hmac(void)
{
    uint8_t k1[20], k3[20], d3[50], k4[25], d4[50], k5[20], k6[131];
    memset(k1, 0x0b, sizeof k1);
    memset(k3, 0xaa, sizeof k3);
    memset(d3, 0xdd, sizeof d3);
    for (int i = 0; i < 25; i++)
        k4[i] = (uint8_t)(i + 1);
    memset(d4, 0xcd, sizeof d4);
    memset(k5, 0x0c, sizeof k5);
    memset(k6, 0xaa, sizeof k6);
    const char *m6 = "Test Using Larger Than Block-Size Key - Hash Key First";
    const char *m7 = "This is a test using a larger than block-size key and a larger than "
                     "block-size data. The key needs to be hashed before being used by the "
                     "HMAC algorithm.";
    struct {
        const uint8_t *key;
        size_t klen;
        const uint8_t *msg;
        size_t mlen;
        size_t outlen;
        const char *expect;
    } tv[] = {
        {k1, 20, (const uint8_t *)"Hi There", 8, 32,
         "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"},
        {(const uint8_t *)"Jefe", 4, (const uint8_t *)"what do ya want for nothing?", 28, 32,
         "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"},
        {k3, 20, d3, 50, 32, "773ea91e36800e46854db8ebd09181a72959098b3ef8c122d9635514ced565fe"},
        {k4, 25, d4, 50, 32, "82558a389a443c0ea4cc819899f2083a85f0faa3e578f8077a2e3ff46729665b"},
        {k5, 20, (const uint8_t *)"Test With Truncation", 20, 16,
         "a3b6167473100ee06e0c796c2955552b"},
        {k6, 131, (const uint8_t *)m6, strlen(m6), 32,
         "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54"},
        {k6, 131, (const uint8_t *)m7, strlen(m7), 32,
         "9b09ffa71b942fcb27635fbcd5b0e944bfdc63644f0713938a7f51535c3a35e2"},
    };
    for (size_t i = 0; i < sizeof tv / sizeof *tv; i++) {
        uint8_t mac[32];
        char h[65];
        pm_hmac_sha256(tv[i].key, tv[i].klen, tv[i].msg, tv[i].mlen, mac);
        hex(mac, tv[i].outlen, h);
        CHECK_MSG(strcmp(h, tv[i].expect) == 0, "RFC 4231 case %zu: %s", i + 1, h);
    }
}

/* ---- keys and pseudonyms ---- */

static void write_file(const char *path, const char *text, mode_t mode)
{
    unlink(path);
    FILE *fp = fopen(path, "w");
    fputs(text, fp);
    fclose(fp);
    chmod(path, mode);
}

static int file_mode(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 ? (int)(st.st_mode & 07777) : -1;
}

#define FIXED_KEY "promise-key v1 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n"

static void test_keys(const char *dir)
{
    pm_ctx_t *ctx = pm_ctx_new();
    char a[512], b[512], fixed[512], p[512];
    snprintf(a, sizeof a, "%s/a.key", dir);
    snprintf(b, sizeof b, "%s/b.key", dir);
    snprintf(fixed, sizeof fixed, "%s/fixed.key", dir);

    /* generation: mode 0600 whatever the umask, no overwrite, format */
    mode_t old = umask(0);
    CHECK(pm_key_generate(ctx, a) == 0);
    umask(old);
    CHECK(file_mode(a) == 0600);
    char *text = NULL;
    {
        FILE *fp = fopen(a, "r");
        char line[200] = "";
        CHECK(fp && fgets(line, sizeof line, fp));
        if (fp)
            fclose(fp);
        CHECK(strlen(line) == 80 && strncmp(line, "promise-key v1 ", 15) == 0 &&
              line[79] == '\n');
        text = strdup(line);
    }
    CHECK(pm_key_generate(ctx, a) == PM_EEXIST);
    CHECK(strstr(pm_ctx_errmsg(ctx), "already exists") != NULL);
    {
        FILE *fp = fopen(a, "r");
        char line[200] = "";
        CHECK(fp && fgets(line, sizeof line, fp));
        if (fp)
            fclose(fp);
        CHECK_STR(line, text); /* untouched */
    }
    free(text);
    snprintf(p, sizeof p, "%s/no/such/dir/k.key", dir);
    CHECK(pm_key_generate(ctx, p) < 0);
    /* no temporary files left behind */
    snprintf(p, sizeof p, "%s/a.key.tmp-%ld-0", dir, (long)getpid());
    CHECK(access(p, F_OK) != 0);

    /* loading */
    pm_key_t *ka = NULL, *ka2 = NULL, *kb = NULL, *kf = NULL;
    CHECK(pm_key_load(ctx, a, &ka) == 0 && ka);
    CHECK(pm_key_load(ctx, a, &ka2) == 0 && ka2);
    CHECK(pm_key_generate(ctx, b) == 0);
    CHECK(pm_key_load(ctx, b, &kb) == 0 && kb);

    /* mode checks */
    pm_key_t *k = NULL;
    int modes[] = {0640, 0604, 0644, 0660, 0606, 0610, 0601};
    for (size_t i = 0; i < sizeof modes / sizeof *modes; i++) {
        write_file(fixed, FIXED_KEY, (mode_t)modes[i]);
        CHECK_MSG(pm_key_load(ctx, fixed, &k) == PM_EACCES && k == NULL, "mode %o", modes[i]);
    }
    CHECK(strstr(pm_ctx_errmsg(ctx), "group or others") != NULL);
    write_file(fixed, FIXED_KEY, 0400);
    CHECK(pm_key_load(ctx, fixed, &k) == 0);
    pm_key_free(k);
    k = NULL;

    /* format checks */
    const char *bad[] = {
        "",
        "promise-key v1 \n",
        "promise-key v2 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n",
        "promise-key v1 000102030405060708090A0B0C0D0E0F101112131415161718191a1b1c1d1e1f\n",
        "promise-key v1 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1\n",
        "promise-key v1 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1fa\n",
        "promise-key v1 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n\n",
        "promise-key v1 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1fX",
        "promise-key v1 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1g\n",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        write_file(fixed, bad[i], 0600);
        CHECK_MSG(pm_key_load(ctx, fixed, &k) == PM_EINPUT && k == NULL, "bad key %zu", i);
    }
    snprintf(p, sizeof p, "%s/missing.key", dir);
    CHECK(pm_key_load(ctx, p, &k) == PM_ENOTFOUND && k == NULL);
    CHECK(pm_key_load(ctx, dir, &k) < 0 && k == NULL); /* a directory */
    snprintf(p, sizeof p, "%s/fifo.key", dir);
    CHECK(mkfifo(p, 0600) == 0);
    CHECK(pm_key_load(ctx, p, &k) == PM_EINPUT && k == NULL); /* does not hang */

    /* fingerprint, tag and pseudonym of a fixed key: pinned values (computed
     * independently with Python's hmac and base64); they must never change */
    write_file(fixed, FIXED_KEY, 0600);
    CHECK(pm_key_load(ctx, fixed, &kf) == 0);
    write_file(fixed, "promise-key v1 000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f",
               0600); /* without the final newline */
    CHECK(pm_key_load(ctx, fixed, &k) == 0);
    char fpr[PM_FINGERPRINT_HEX + 1], fpr2[PM_FINGERPRINT_HEX + 1];
    char tag[PM_KEY_TAG_LEN + 1], tag2[PM_KEY_TAG_LEN + 1];
    if (kf) {
        pm_key_fingerprint(kf, fpr);
        CHECK_STR(fpr, "385cd8e5df4a7c30d4883aaff3963cf79a9eb2b67f22165bc5635bb443f67d7e");
        pm_key_tag(kf, tag);
        CHECK_STR(tag, "hbonrz");
        pm_pnr_t pn;
        char ps[PM_PSEUDONYM_MAX];
        CHECK(pm_pnr_parse("19821105-9954", REF, &pn) == PM_PNR_OK);
        pm_pseudonym(kf, &pn, ps);
        CHECK_STR(ps, "hbonrz-oulhif65iqqh5x3rztffskn7pe");
        CHECK(pm_pnr_parse("570574-9959", REF, &pn) == PM_PNR_OK);
        pm_pseudonym(kf, &pn, ps);
        CHECK_STR(ps, "hbonrz-fk2so3jwmm5c6un7tr3xwq23lq");
        if (k) {
            pm_key_fingerprint(k, fpr2);
            CHECK_STR(fpr, fpr2);
        }
    }
    pm_key_free(k);

    /* a fingerprint is the HMAC of the label under the key */
    {
        uint8_t raw[32], mac[32];
        for (int i = 0; i < 32; i++)
            raw[i] = (uint8_t)i;
        const char *label = "promise-key-fingerprint-v1";
        pm_hmac_sha256(raw, 32, (const uint8_t *)label, strlen(label), mac);
        char h[65];
        hex(mac, 32, h);
        CHECK_STR(h, fpr);
    }

    /* stability and distinctness across keys */
    if (ka && ka2 && kb) {
        pm_key_fingerprint(ka, fpr);
        pm_key_fingerprint(ka2, fpr2);
        CHECK_STR(fpr, fpr2);
        CHECK(strlen(fpr) == PM_FINGERPRINT_HEX && strspn(fpr, "0123456789abcdef") == 64);
        pm_key_fingerprint(kb, fpr2);
        CHECK(strcmp(fpr, fpr2) != 0);
        pm_key_tag(ka, tag);
        pm_key_tag(ka2, tag2);
        CHECK_STR(tag, tag2);
        CHECK(strlen(tag) == PM_KEY_TAG_LEN);

        const char *nums[] = {"198211059954", "199012119948", "195705749959", "187912219990"};
        for (size_t i = 0; i < 4; i++) {
            pm_pnr_t pn;
            char pa[PM_PSEUDONYM_MAX], pa2[PM_PSEUDONYM_MAX], pb[PM_PSEUDONYM_MAX];
            char ptag[PM_KEY_TAG_LEN + 1];
            CHECK(pm_pnr_parse(nums[i], REF, &pn) == PM_PNR_OK);
            pm_pseudonym(ka, &pn, pa);
            pm_pseudonym(ka2, &pn, pa2);
            pm_pseudonym(kb, &pn, pb);
            CHECK_STR(pa, pa2);          /* same key, same pseudonym */
            CHECK(strcmp(pa, pb) != 0);  /* another key, another pseudonym */
            CHECK(strlen(pa) == 33 && strlen(pa) < PM_PSEUDONYM_MAX);
            CHECK(strncmp(pa, tag, PM_KEY_TAG_LEN) == 0 && pa[PM_KEY_TAG_LEN] == '-');
            CHECK(strspn(pa + 7, "abcdefghijklmnopqrstuvwxyz234567") == 26);
            CHECK(strstr(pa, nums[i] + 2) == NULL);
            CHECK(pm_pseudonym_parse(pa, ptag) == 0);
            CHECK_STR(ptag, tag);
            CHECK(pm_pseudonym_parse(pb, ptag) == 0);
            /* all spellings of one number give one pseudonym */
            char forms[4][16], ps[PM_PSEUDONYM_MAX];
            spell(nums[i], nums[i][0] == '1' && nums[i][1] == '8' ? '+' : '-', forms);
            for (int f = 0; f < 4; f++) {
                pm_pnr_t q;
                if (pm_pnr_parse(forms[f], REF, &q) == PM_PNR_OK) {
                    pm_pseudonym(ka, &q, ps);
                    CHECK_MSG(strcmp(ps, pa) == 0 || f == 2, "case %zu form %d", i, f);
                } else {
                    CHECK_MSG(0, "case %zu form %d does not parse", i, f);
                }
            }
        }
    }

    pm_key_free(ka);
    pm_key_free(ka2);
    pm_key_free(kb);
    pm_key_free(kf);
    pm_key_free(NULL);
    pm_ctx_free(ctx);
}

static void test_pseudonym_parse(void)
{
    char tag[PM_KEY_TAG_LEN + 1];
    CHECK(pm_pseudonym_parse("hbonrz-oulhif65iqqh5x3rztffskn7pe", tag) == 0);
    CHECK_STR(tag, "hbonrz");
    CHECK(pm_pseudonym_parse("hbonrz-oulhif65iqqh5x3rztffskn7pe", NULL) == 0);
    const char *bad[] = {
        NULL,
        "",
        "hbonrz",
        "hbonrz-",
        "hbonrzoulhif65iqqh5x3rztffskn7pe",
        "hbonrz_oulhif65iqqh5x3rztffskn7pe",
        "hbonr-zoulhif65iqqh5x3rztffskn7pe",
        "hbonrz-oulhif65iqqh5x3rztffskn7p",
        "hbonrz-oulhif65iqqh5x3rztffskn7pea",
        "HBONRZ-oulhif65iqqh5x3rztffskn7pe",
        "hbonrz-OULHIF65IQQH5X3RZTFFSKN7PE",
        "hbonrz-oulhif65iqqh5x3rztffskn7pf", /* trailing bits not zero */
        "hbonrz-oulhif65iqqh5x3rztffskn7p1", /* '1' is not base32 */
        "hbonrz-oulhif05iqqh5x3rztffskn7pe", /* '0' neither */
        "hbon8z-oulhif65iqqh5x3rztffskn7pe",
        "hbonrz-oulhif65iqqh5x3rztffskn7pe ",
        "198211059954",
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++)
        CHECK_MSG(pm_pseudonym_parse(bad[i], tag) == PM_EINPUT, "bad pseudonym %zu", i);
}

/* ---- tables ---- */

static char *slurp(FILE *fp)
{
    rewind(fp);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof buf - 1, fp);
    buf[n] = '\0';
    return buf;
}

static void test_table(const char *dir)
{
    pm_ctx_t *ctx = pm_ctx_new();
    char keyp[512], in[512], gz[512];
    snprintf(keyp, sizeof keyp, "%s/fixed.key", dir);
    write_file(keyp, FIXED_KEY, 0600);
    pm_key_t *key = NULL;
    CHECK(pm_key_load(ctx, keyp, &key) == 0);
    if (!key) {
        pm_ctx_free(ctx);
        return;
    }
    snprintf(in, sizeof in, "%s/in.tsv", dir);
    write_file(in,
               "id\tpersonnummer\tnote\n"
               "a\t19821105-9954\tx y\n"
               "b\t8211059954\t\n"
               "c\t570574-9959\tz\n",
               0600);
    FILE *out = tmpfile();
    CHECK(pm_pseudonymize_table(ctx, key, in, out) == 0);
    CHECK_STR(slurp(out), "id\tpseudonym\tnote\n"
                          "a\thbonrz-oulhif65iqqh5x3rztffskn7pe\tx y\n"
                          "b\thbonrz-oulhif65iqqh5x3rztffskn7pe\t\n"
                          "c\thbonrz-fk2so3jwmm5c6un7tr3xwq23lq\tz\n");
    fclose(out);

    /* gzip input gives the same table */
    snprintf(gz, sizeof gz, "%s/in.tsv.gz", dir);
    gzFile g = gzopen(gz, "wb");
    gzputs(g, "personnummer\n19821105-9954\n");
    gzclose(g);
    out = tmpfile();
    CHECK(pm_pseudonymize_table(ctx, key, gz, out) == 0);
    CHECK_STR(slurp(out), "pseudonym\nhbonrz-oulhif65iqqh5x3rztffskn7pe\n");
    fclose(out);

    /* a bad row: file:line:col, no number, nothing written */
    write_file(in,
               "id\tnote\tpersonnummer\n"
               "a\tx\t19821105-9954\n"
               "bb\ty\t19821105-9955\n"
               "c\tz\t19821105-9954\n",
               0600);
    out = tmpfile();
    CHECK(pm_pseudonymize_table(ctx, key, in, out) == PM_EINPUT);
    char expect[1024];
    snprintf(expect, sizeof expect,
             "%s:3:6: invalid personnummer: wrong check digit (column 'personnummer')", in);
    CHECK_STR(pm_ctx_errmsg(ctx), expect);
    CHECK(strstr(pm_ctx_errmsg(ctx), "9955") == NULL);
    CHECK(strstr(pm_ctx_errmsg(ctx), "821105") == NULL);
    fseek(out, 0, SEEK_END);
    CHECK(ftell(out) == 0);
    fclose(out);

    /* the bad row last, and an empty field */
    write_file(in, "personnummer\n19821105-9954\n\t\n", 0600);
    out = tmpfile();
    /* "\t" is a row of two fields under a one-column header */
    CHECK(pm_pseudonymize_table(ctx, key, in, out) == PM_EINPUT);
    fseek(out, 0, SEEK_END);
    CHECK(ftell(out) == 0);
    fclose(out);
    write_file(in, "personnummer\tx\n19821105-9954\t1\n\t2\n", 0600);
    out = tmpfile();
    CHECK(pm_pseudonymize_table(ctx, key, in, out) == PM_EINPUT);
    CHECK(strstr(pm_ctx_errmsg(ctx), ":3:1: invalid personnummer: empty") != NULL);
    fclose(out);

    /* no personnummer column; already a pseudonym column */
    write_file(in, "id\tpnr\na\t19821105-9954\n", 0600);
    out = tmpfile();
    CHECK(pm_pseudonymize_table(ctx, key, in, out) == PM_EINPUT);
    CHECK(strstr(pm_ctx_errmsg(ctx), "no 'personnummer' column") != NULL);
    fclose(out);
    write_file(in, "pseudonym\tpersonnummer\nx\t19821105-9954\n", 0600);
    out = tmpfile();
    CHECK(pm_pseudonymize_table(ctx, key, in, out) == PM_EINPUT);
    CHECK(strstr(pm_ctx_errmsg(ctx), "already has a 'pseudonym' column") != NULL);
    fclose(out);

    /* header only: header out */
    write_file(in, "personnummer\tage\n", 0600);
    out = tmpfile();
    CHECK(pm_pseudonymize_table(ctx, key, in, out) == 0);
    CHECK_STR(slurp(out), "pseudonym\tage\n");
    fclose(out);

    /* missing input */
    snprintf(in, sizeof in, "%s/missing.tsv", dir);
    out = tmpfile();
    CHECK(pm_pseudonymize_table(ctx, key, in, out) < 0);
    fclose(out);

    pm_key_free(key);
    pm_ctx_free(ctx);
}

static void rm_rf(const char *dir)
{
    char cmd[1024];
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", dir);
    if (system(cmd) != 0)
        fprintf(stderr, "cannot remove %s\n", dir);
}

int main(void)
{
    char dir[] = "/tmp/pm_test_identity.XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    test_valid_basic();
    test_sex();
    test_check_digit();
    test_transpositions();
    test_dates();
    test_century_and_plus();
    test_coordination();
    test_birth_number();
    test_shape();
    test_reserve();
    test_strerror();
    test_failure_clears_out();
    test_conformance();
    test_hmac();
    test_keys(dir);
    test_pseudonym_parse();
    test_table(dir);
    rm_rf(dir);
    return check_summary("test_identity");
}
