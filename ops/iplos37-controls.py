#!/usr/bin/env python3
"""Writes the register's arrival checks of IPLOS 3.7 as data kpr-bridge compiles in.

    ops/iplos37-controls.py > src/assembly/data/iplos37_controls.csv

Reads schemas/official/iplos37/iplos_2019_Annotations.xsd (the register's own annotations:
per field a type check with its regex, a presence check, a code check and a range check, each
with the consequence the register applies) and the code lists under
../shared/reference/codes/official/ (given as CODES_DIR), and writes one CSV row per field.
Nothing is typed by hand: run it again when the annotations change, and commit its output.

Adapted, each said in the row's `note`:
- the period check is bound to 2019 in the file; kpr-bridge applies it to the reporting year
  ({YEAR} in range bounds);
- a range bound that is an XPath to the period's end becomes {YEAR_END};
- code 9341 (iiKontakt/Type) is published nowhere: no code check is made;
- a range the file gives but does not switch on (merketForRangeCheck empty) is left out;
- the service types (9151) are checked against the year's list kpr-bridge already knows
  (`@9151`): the published list marks the welfare-technology codes withdrawn for the daily
  flow, while the 2025 annual message must report them.
"""
import csv
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
ANNOTATIONS = os.path.join(HERE, "..", "schemas", "official", "iplos37", "iplos_2019_Annotations.xsd")
CODES_DIR = os.environ.get(
    "CODES_DIR", os.path.join(HERE, "..", "..", "shared", "reference", "codes", "official")
)
CODE_FILES = {
    "3100": "3100.csv", "9335": "9335.csv", "1101": "1101_ja_nei.csv",
    "9168": "9168_grad_av_mottatt_privat_hjelp.csv", "9336": "9336.csv",
    "9188": "9188_koordinator_individuell_plan.csv", "1110": "1110.csv", "9338": "9338.csv",
    "9340": "9340.csv", "9171": "9171_vedtak.csv",
    "9111": "9111_iplos_funksjonsvariabel.csv", "9165": "9165_funksjonsverdi.csv",
    "9166": "9166_funksjonsverdi_syn.csv", "9167": "9167_funksjonsverdi_horsel.csv",
}


def codes(oid):
    """The codes of one or more code systems ("9165 9166 9167"), or None when unknown."""
    if oid == "9151":
        return "@9151"
    found = set()
    for system in oid.split():
        name = CODE_FILES.get(system)
        if name is None:
            return None
        with open(os.path.join(CODES_DIR, name), encoding="utf-8") as f:
            for row in csv.DictReader(f):
                found.add(row["code"].strip())
    return " ".join(sorted(found, key=lambda c: (len(c), c)))


def main():
    text = open(ANNOTATIONS, encoding="utf-8").read()
    writer = csv.writer(sys.stdout, lineterminator="\n")
    writer.writerow([
        "class", "field", "type_regex", "type_action", "mandatory", "mandatory_when",
        "mandatory_action", "codes", "code_action", "range_from", "range_to", "range_action",
        "note",
    ])
    for block in re.findall(r"<appinfo>(.*?)</appinfo>", text, re.S):
        info = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', block))
        regex = re.search(r'name="regex"><!\[CDATA\[(.*?)\]\]>', block, re.S)
        field = info.get("attributeShortName", "")
        if not field:
            continue
        notes = []
        type_regex = regex.group(1) if regex and info.get("merketForTypesjekk") == "1" else ""
        mandatory = info.get("merketForObligat", "")
        when = ""
        if mandatory.startswith("xpath:"):
            when = " ".join(re.findall(r"@tjTjenType='(\d+)'", mandatory))
            mandatory = "1"
        oid = info.get("codeOID", "")
        code_list = ""
        if info.get("merketForKodeverk") == "1":
            code_list = codes(oid)
            if oid.startswith("xpath:"):
                notes.append("the code set is the one diKodeVersjon names: kpr-bridge's own checks know ICPC-2 and ICD-10")
                code_list = ""
            elif code_list is None:
                notes.append(f"code system {oid} is published nowhere: no code check")
                code_list = ""
        low = high = ""
        if info.get("merketForRangeCheck") == "1":
            low, high = info.get("valueRangeFrom", ""), info.get("valueRangeTo", "")
            for bound in ("low", "high"):
                value = locals()[bound]
                if value.startswith("xpath:") and "iiTilDato" in value:
                    value = "{YEAR_END}"
                elif value.startswith("xpath:"):
                    notes.append(f"range bound {value} is not a value: left out")
                    value = ""
                elif value.startswith("2019-"):
                    value = "{YEAR}" + value[4:]
                    notes.append("bound to 2019 in the file: follows the reporting year")
                if bound == "low":
                    low = value
                else:
                    high = value
        writer.writerow([
            info.get("classShortName", ""), field, type_regex, info.get("handlingTypeID", ""),
            mandatory, when, info.get("handlingObligatID", ""), code_list,
            info.get("handlingKodeverkID", ""), low, high, info.get("handlingRangeCheckID", ""),
            "; ".join(dict.fromkeys(notes)),
        ])


if __name__ == "__main__":
    main()
