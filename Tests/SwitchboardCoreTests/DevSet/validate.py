#!/usr/bin/env python3
"""Validate hand-written DevSet JSONL files. Does not generate or modify data.
usage: python3 validate.py dev.jsonl heldout.jsonl            (schema, values, tags, coverage)
       python3 validate.py --pair dev.jsonl heldout.jsonl     (also: no heldout line repeats / nearly repeats a dev line)
       TABLE=1 python3 validate.py --pair dev.jsonl heldout.jsonl   (also print the Markdown count tables)
Exit status is non-zero on any error. Warnings are advisory.
"""
import json, re, sys, os, unicodedata
from collections import Counter, defaultdict

INTENTS = ["billing.balance", "billing.statement", "billing.dispute", "billing.payment", "billing.invoice",
           "plan.current", "plan.change", "plan.recommend", "usage.data", "addon.subscribe", "addon.unsubscribe",
           "fault.report", "fault.status", "complaint.file", "account.cancel", "privacy.concern", "human.request",
           "greeting", "goodbye", "thanks", "affirm", "deny", "cancel", "help", "out_of_scope"]
CONTROL = {"greeting", "goodbye", "thanks", "affirm", "deny", "cancel", "help"}
DIALECTS = ["yue", "sichuan", "dongbei", "wu", "minnan"]
TAGS = ["dialect", "typo", "codeswitch", "elderly", "frustrated", "short", "long", "multi", "colloquial", "nearmiss"]
SLOTS = {"phone", "amount", "month", "relative_month", "plan", "addon", "fault_type", "ticket", "age"}
PLANS = {"CX59", "CX99", "5G199", "LN18", "QN39", "GL129"}
ADDONS = {"data_10g", "video_ringtone"}
FAULTS = {"no_signal", "slow_data", "broadband_outage", "call_failure", "sms_failure", "other"}
KEYS = {"text", "intent", "lang", "dialect", "tags", "slots", "frustrated", "elderly"}
CJK = re.compile(r"[\u3400-\u9fff]")
PUNCT = re.compile(r"[\s\W_]+", re.U)


def zh_len(t):
    # CJK characters plus latin/number tokens (each counts as one unit)
    return len(CJK.findall(t)) + len(re.findall(r"[A-Za-z0-9]+", t))


def en_words(t):
    return len(re.findall(r"[A-Za-z0-9'’-]+", t))


def norm(t):
    return PUNCT.sub("", t).lower()


def load(path):
    rows, errs = [], []
    with open(path, encoding="utf-8") as f:
        for i, line in enumerate(f, 1):
            if not line.strip():
                errs.append(f"{path}:{i}: blank line")
                continue
            try:
                o = json.loads(line)
            except Exception as e:
                errs.append(f"{path}:{i}: bad JSON {e}")
                continue
            rows.append((path, i, o))
    return rows, errs


def check(rows):
    errs, warns = [], []
    seen = {}
    for path, i, o in rows:
        at = f"{os.path.basename(path)}:{i}"
        extra = set(o) - KEYS
        if extra: errs.append(f"{at}: unknown keys {extra}")
        for k in ("text", "intent", "lang", "dialect", "tags"):
            if k not in o: errs.append(f"{at}: missing {k}")
        t = o.get("text", "")
        if not isinstance(t, str) or not t.strip(): errs.append(f"{at}: empty text"); continue
        if t != t.strip(): errs.append(f"{at}: surrounding whitespace")
        if o.get("intent") not in INTENTS: errs.append(f"{at}: bad intent {o.get('intent')}")
        lang = o.get("lang")
        if lang not in ("zh", "en"): errs.append(f"{at}: bad lang")
        has_cjk = bool(CJK.search(t))
        if lang == "zh" and not has_cjk: errs.append(f"{at}: lang zh but no CJK: {t}")
        if lang == "en" and has_cjk: errs.append(f"{at}: lang en but CJK: {t}")
        d = o.get("dialect")
        tags = o.get("tags", [])
        if not isinstance(tags, list): errs.append(f"{at}: tags not list"); tags = []
        for tg in tags:
            if tg not in TAGS: errs.append(f"{at}: bad tag {tg}")
        if len(set(tags)) != len(tags): errs.append(f"{at}: repeated tag")
        if d is not None and d not in DIALECTS: errs.append(f"{at}: bad dialect {d}")
        if (d is not None) != ("dialect" in tags): errs.append(f"{at}: dialect/tag mismatch")
        if d is not None and lang != "zh": errs.append(f"{at}: dialect on non-zh")
        if "nearmiss" in tags and o.get("intent") != "out_of_scope": errs.append(f"{at}: nearmiss on in-scope")
        for flag in ("frustrated", "elderly"):
            if flag in o and not isinstance(o[flag], bool): errs.append(f"{at}: {flag} not bool")
            if (flag in tags) != (o.get(flag) is True): errs.append(f"{at}: {flag} tag/field mismatch")
        if "codeswitch" in tags and not (has_cjk and re.search(r"[A-Za-z]{2,}", t)):
            errs.append(f"{at}: codeswitch without both scripts")
        if lang == "zh" and has_cjk and re.search(r"[A-Za-z]{3,}", re.sub(r"(app|APP|wifi|WiFi|Wi-Fi|WIFI|SIM|GB|iPhone|VIP|QQ|ID|CP|RP|SF|Mbps|Apple|Pay)", "", t)) and "codeswitch" not in tags:
            warns.append(f"{at}: latin words but no codeswitch: {t}")
        # length tags
        n = zh_len(t) if lang == "zh" else en_words(t)
        if "short" in tags:
            if (lang == "zh" and n > 6) or (lang == "en" and n > 3): errs.append(f"{at}: short but len {n}: {t}")
        elif (lang == "zh" and n <= 4) or (lang == "en" and n <= 2):
            warns.append(f"{at}: looks short ({n}) untagged: {t}")
        if "long" in tags:
            if (lang == "zh" and len(t) <= 40) or (lang == "en" and n <= 25): errs.append(f"{at}: long but len {len(t) if lang=='zh' else n}: {t}")
        elif (lang == "zh" and len(t) > 40) or (lang == "en" and n > 25):
            errs.append(f"{at}: is long but untagged ({len(t) if lang=='zh' else n}): {t}")
        s = o.get("slots")
        if s is not None:
            if not isinstance(s, dict) or not s: errs.append(f"{at}: slots must be non-empty object")
            else:
                for k, v in s.items():
                    if k not in SLOTS: errs.append(f"{at}: bad slot {k}"); continue
                    if not isinstance(v, str): errs.append(f"{at}: slot {k} not string"); continue
                    ok = {
                        "phone": lambda v: re.fullmatch(r"1[3-9]\d{9}", v) and v in t,
                        "amount": lambda v: re.fullmatch(r"\d+(\.\d+)?", v),
                        "month": lambda v: v in [str(x) for x in range(1, 13)],
                        "relative_month": lambda v: v in ("0", "-1", "-2"),
                        "plan": lambda v: v in PLANS,
                        "addon": lambda v: v in ADDONS,
                        "fault_type": lambda v: v in FAULTS,
                        "ticket": lambda v: re.fullmatch(r"[A-Z]{2,4}-?\d{6,14}", v) and v in t,
                        "age": lambda v: re.fullmatch(r"\d{1,3}", v),
                    }[k](v)
                    if not ok: errs.append(f"{at}: bad slot value {k}={v}")
                if "age" in s and "elderly" not in o and int(s["age"]) >= 60: warns.append(f"{at}: age>=60 but no elderly field")
                if "age" in s and o.get("elderly") is True and int(s["age"]) < 60: errs.append(f"{at}: elderly but age<60")
                if "fault_type" in s and o["intent"] not in ("fault.report", "fault.status", "complaint.file"):
                    warns.append(f"{at}: fault_type on {o['intent']}")
        if o.get("intent") == "fault.report" and not (s or {}).get("fault_type"):
            warns.append(f"{at}: fault.report without fault_type: {t}")
        k = norm(t)
        if k in seen: errs.append(f"{at}: duplicate of {seen[k]}: {t}")
        else: seen[k] = at
    return errs, warns


def counts(rows):
    objs = [o for _, _, o in rows]
    il = Counter((o["intent"], o["lang"]) for o in objs)
    dl = Counter(o["dialect"] for o in objs if o["dialect"])
    tg = Counter(t for o in objs for t in o["tags"])
    di = defaultdict(Counter)
    for o in objs:
        if o["dialect"]: di[o["dialect"]][o["intent"]] += 1
    nm = sum(1 for o in objs if "nearmiss" in o["tags"])
    sl = sum(1 for o in objs if o.get("slots"))
    slk = Counter(k for o in objs for k in (o.get("slots") or {}))
    fr = Counter(o.get("frustrated") for o in objs if "frustrated" in o)
    el = Counter(o.get("elderly") for o in objs if "elderly" in o)
    return dict(n=len(objs), il=il, dl=dl, tg=tg, di=di, nm=nm, sl=sl, slk=slk, fr=fr, el=el)


def requirements(c, scale):
    probs = []
    for it in INTENTS:
        zh, en = c["il"][(it, "zh")], c["il"][(it, "en")]
        if it == "out_of_scope": need = (100, 80)
        elif it in CONTROL: need = (15, 10)
        else: need = (30, 15)
        need = tuple(int(x * scale + 0.999) for x in need)
        if zh < need[0] or en < need[1]: probs.append(f"{it}: zh {zh}/{need[0]} en {en}/{need[1]}")
    for d, n in dict(yue=80, sichuan=35, dongbei=35, wu=35, minnan=30).items():
        if c["dl"][d] < int(n * scale + 0.999): probs.append(f"dialect {d}: {c['dl'][d]}/{int(n*scale+0.999)}")
    for t, n in dict(typo=80, codeswitch=50, short=80, long=40, nearmiss=40).items():
        if c["tg"][t] < int(n * scale + 0.999): probs.append(f"tag {t}: {c['tg'][t]}/{int(n*scale+0.999)}")
    return probs


def table(dev, ho):
    cd, ch = counts(dev), counts(ho)
    L = ["| intent | dev zh | dev en | heldout zh | heldout en |", "|---|---:|---:|---:|---:|"]
    for it in INTENTS:
        L.append(f"| {it} | {cd['il'][(it,'zh')]} | {cd['il'][(it,'en')]} | {ch['il'][(it,'zh')]} | {ch['il'][(it,'en')]} |")
    L.append(f"| **total** | {sum(v for (i,l),v in cd['il'].items() if l=='zh')} | {sum(v for (i,l),v in cd['il'].items() if l=='en')} | "
             f"{sum(v for (i,l),v in ch['il'].items() if l=='zh')} | {sum(v for (i,l),v in ch['il'].items() if l=='en')} |")
    L += ["", "| dialect | dev | heldout | intents covered (dev) |", "|---|---:|---:|---:|"]
    for d in DIALECTS:
        L.append(f"| {d} | {cd['dl'][d]} | {ch['dl'][d]} | {len(cd['di'][d])} |")
    L += ["", "| tag | dev | heldout |", "|---|---:|---:|"]
    for t in TAGS:
        L.append(f"| {t} | {cd['tg'][t]} | {ch['tg'][t]} |")
    L += ["", "| field | dev | heldout |", "|---|---:|---:|"]
    L.append(f"| lines with slots | {cd['sl']} | {ch['sl']} |")
    for k in sorted(SLOTS):
        L.append(f"| slot `{k}` | {cd['slk'][k]} | {ch['slk'][k]} |")
    for f in ("frustrated", "elderly"):
        L.append(f"| `{f}: true` | {cd[f[:2]][True]} | {ch[f[:2]][True]} |")
        L.append(f"| `{f}: false` | {cd[f[:2]][False]} | {ch[f[:2]][False]} |")
    return "\n".join(L)


def bigrams(t):
    t = norm(t)
    return {t[i:i + 2] for i in range(len(t) - 1)} or {t}


def main():
    args = sys.argv[1:]
    pair = False
    if args and args[0] == "--pair": pair = True; args = args[1:]
    allrows = {}
    rc = 0
    for a in args:
        files = sorted(os.path.join(a, f) for f in os.listdir(a) if f.endswith(".jsonl")) if os.path.isdir(a) else [a]
        rows, errs = [], []
        for f in files:
            r, e = load(f); rows += r; errs += e
        e2, w = check(rows)
        errs += e2
        allrows[a] = rows
        c = counts(rows)
        print(f"== {a}: {c['n']} lines, {len(errs)} errors, {len(w)} warnings")
        for e in errs: print("  ERR", e)
        for x in w: print("  warn", x)
        scale = 1.0 if "dev" in os.path.basename(a.rstrip('/')) else 1 / 3
        for p in requirements(c, scale): print("  SHORTFALL", p)
        print("  dialects", dict(c["dl"]), "tags", dict(c["tg"]), "slots", c["sl"], dict(c["slk"]),
              "frustrated", dict(c["fr"]), "elderly", dict(c["el"]))
        if errs: rc = 1
    if pair and len(args) == 2:
        dev, ho = allrows[args[0]], allrows[args[1]]
        dn = {norm(o["text"]): o["text"] for _, _, o in dev}
        for _, i, o in ho:
            if norm(o["text"]) in dn: print(f"  ERR heldout:{i} exact dup of dev: {o['text']}"); rc = 1
        db = [(bigrams(o["text"]), o["text"]) for _, _, o in dev]
        near = 0
        for _, i, o in ho:
            hb = bigrams(o["text"])
            if len(hb) < 4: continue
            for b, t in db:
                j = len(hb & b) / len(hb | b)
                if j >= 0.6:
                    near += 1; print(f"  near-dup ({j:.2f}) heldout:{i} {o['text']}  ~  dev: {t}"); break
        print("  near-dups:", near)
        if os.environ.get("TABLE"): print(table(dev, ho))
    sys.exit(rc)


if __name__ == "__main__":
    main()
