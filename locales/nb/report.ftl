# Kontrollrapporten (HTML, src/report/html.rs), tabellen fra `check` (src/report/summary.rs) og
# det `kpr-bridge check` ellers skriver rundt dem (src/commands/check.rs).

## Ord begge bruker

report-mode-test = test
report-mode-production = produksjon
report-severity-error = feil
report-severity-warning = advarsel
report-origin-extract = uttrekk { $place }
report-origin-database = database { $place }
report-origin-iplos = IPLOS-uttrekk { $place }
report-percent = { $value }{ "\u00A0" }%
report-services = { $count ->
    [one] { $count } tjeneste
   *[other] { $count } tjenester
}

## HTML-rapporten

report-title = IPLOS-kontroll { $year } – { $municipality } { $name }
report-kicker = IPLOS-kontroll før innsending til KPR
report-reporting-year = · rapporteringsår { $year }
report-meta-mode = Modus
report-meta-generated = Laget
report-meta-sources = Kilder
report-status-errors = Ikke klar til innsending: { $count ->
    [one] { $count } regel
   *[other] { $count } regler
} fant feil.
report-status-errors-text = Registeret ville avvist eller lest disse opplysningene feil. De holdes tilbake til de er rettet i EPJ eller i mappingfilen.
report-status-problems = Ingen regler fant feil, men { $count ->
    [one] { $count } rad eller verdi
   *[other] { $count } rader eller verdier
} kunne ikke leses.
report-status-problems-text = Hver av dem står i utskriften i terminalen. Se på dem før du sender inn.
report-status-ok = Ingen feil: dataene kan sendes inn.
report-status-warnings = { $count ->
    [one] { $count } regel
   *[other] { $count } regler
} fant advarsler som er verdt å se på.
report-nav-summary = Sammendrag
report-nav-months = Tjenester per måned
report-nav-findings = Funn
report-nav-mapping = Mapping
report-badge-error = Feil
report-badge-warning = Advarsel

report-sources = Kilder
report-sources-none = Ingen kilder ble lest.
report-sources-source = Kilde
report-sources-origin = Hvor fra
report-sources-persons = Personer
report-sources-services = Tjenester
report-sources-problems = Lesefeil
report-sources-note = Lesefeil er rader eller verdier som ikke kunne brukes. Hver av dem står i utskriften i terminalen. En person som finnes i to kilder, telles én gang i summene nedenfor.

report-summary = Sammendrag
report-summary-what = Hva
report-summary-severity = Alvorlighet
report-summary-count = Antall
report-summary-persons = Personer
report-summary-services = Tjenester
report-summary-errors = Regler med feil
report-summary-warnings = Regler med advarsler
report-summary-passed = Ingen regler fant noe.

report-months = Tjenester per måned, { $year }
report-months-none = Ingen innvilgede tjenester i { $year }, så det er ingenting å vise i diagrammet.
report-months-note = Innvilgede tjenester og personene som har dem, per nasjonal tjenestetype. En tjeneste telles i hver måned den varer. En kilde telles bare innenfor sine egne datoer. Hvert diagram har sin egen skala.
report-months-services = Tjenester
report-months-persons = Personer
report-chart-title = Innvilgede tjenester og personer per nasjonal tjenestetype og måned, { $year }
report-chart-figures = Tallene i diagrammet
report-chart-code = Tjenestetype
report-month = { $month ->
    [1] Jan
    [2] Feb
    [3] Mar
    [4] Apr
    [5] Mai
    [6] Jun
    [7] Jul
    [8] Aug
    [9] Sep
    [10] Okt
    [11] Nov
   *[12] Des
}

report-findings = Funn
report-findings-none = Ingen funn: ingen regler fant noe.
report-found-times = { $count ->
    [one] funnet én gang
   *[other] funnet { $count } ganger
}
report-what-to-do = Dette gjør du:
report-examples-first = De første { $shown } av { $count } vises.
report-examples-source = Kilde
report-examples-record = Opplysning
report-examples-local-id = Lokal id
report-examples-detail = Detaljer
report-record-person = person
report-record-service = tjeneste
report-record-assessment = funksjonsvurdering
report-record-diagnosis = diagnose

report-register = Registerets mottakskontroller
report-register-intro = KPR kontrollerer årsmeldingen når den kommer inn, og forkaster det som ikke består enkelte av kontrollene. Dette er KPRs egne kontroller, kjørt på meldingen slik kpr-bridge ville skrevet den for dette året.
report-register-none = Registeret ville ikke forkastet noe.
report-register-count = { $kind }, funnet { $count ->
    [one] én gang
   *[other] { $count } ganger
}
report-register-expected = Forventet: { $expected }. Eksempel: { $example }.
report-register-field = { $field } ({ $kind }, { $count })
report-register-taken = Registeret noterer dette og tar det imot som det er: { $fields }.

report-mapping = Lokale tjenestetyper og nasjonale koder
report-mapping-none = Ingen tjenester å koble til nasjonale koder.
report-mapping-share = av tjenestene er koblet til en nasjonal kode ({ $mapped } av { $all }). En tjeneste som ikke er koblet, blir ikke rapportert.
report-mapping-source = { $percent } koblet
report-mapping-local-type = Lokal tjenestetype
report-mapping-services = Tjenester
report-mapping-maps-to = Kobles til
report-mapping-not-reported = Rapporteres ikke
report-mapping-attribute = personopplysning { $attribute }
report-mapping-ignored = holdes utenfor: { $reason }
report-mapping-retired = utgått kode { $code }
report-mapping-unmapped = ingen regel i mappingfilen

report-footer = Laget av kpr-bridge { $version }. Rapporten inneholder ingen fødselsnumre, D-numre eller navn: eksemplene er angitt med kilde og EPJ-ens egen id.

## Tabellen i terminalen

summary-title = Kontroll av { $municipality } { $name } for { $year } (modus: { $mode }), { $generated }
summary-sources = Kilder
summary-persons = personer
summary-services = tjenester
summary-problems = lesefeil
summary-totals = { $persons } personer, { $services } tjenester; { $errors ->
    [one] { $errors } regel
   *[other] { $errors } regler
} med feil, { $warnings } med advarsler
summary-register = Registerets mottakskontroller ville forkastet data i KPR_IPL slik den ville blitt skrevet:
summary-register-line = { $record } { $field } ({ $kind }) { $count }: { $consequence }; forventet { $expected }, for eksempel { $example }
summary-no-findings = Ingen funn.
summary-rule = regel
summary-severity = alvorlighet
summary-count = antall

## Rundt tabellen

check-year-invalid = feil: --year { $year } er ikke et rapporteringsår; oppgi et år som 2025
check-more-problems = { $source }: … og { $count } problemer til (--max-problems viser flere)
check-json-failed = feil: kan ikke skrive JSON: { $error }
check-report-failed = feil: kan ikke skrive rapporten til { $file }: { $error } — sjekk mappen og ledig plass
check-report-written = Rapporten er skrevet til { $file }
