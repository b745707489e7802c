# Tjenestetype, kodeverk 9151: navnene slik kodelisten skriver dem (src/model/service_codes.rs).
# Én melding per kode; en underkode som 08.01 heter service-type-8-1.

service-type-1 = Praktisk bistand – daglige gjøremål
service-type-2 = Praktisk bistand – opplæring
service-type-3 = Brukerstyrt personlig assistanse (BPA)
service-type-4 = Dagaktivitetstilbud
service-type-5 = Matombringing
service-type-6 = Trygghetsalarm
service-type-7 = Avlastning utenfor institusjon
service-type-8 = Avlastning i institusjon
service-type-8-1 = Avlastning i institusjon – rullerende
service-type-8-2 = Avlastning i institusjon – ikke rullerende
service-type-9 = Støttekontakt
service-type-10 = Ikke i bruk
service-type-11 = Omsorgsstønad
service-type-12 = Omsorgsbolig (erstattet av 29)
service-type-13 = Annen bolig (erstattet av 29)
service-type-14 = Tvang psykisk utviklingshemming – planlagte tiltak
service-type-15 = Helsetjenester i hjemmet
service-type-16 = Rehabilitering utenfor institusjon (nå personopplysning)
service-type-17 = Dagopphold i institusjon
service-type-18 = Tidsbegrenset opphold – utredning/behandling
service-type-19 = Tidsbegrenset opphold – habilitering/rehabilitering
service-type-20 = Tidsbegrenset opphold – annet
service-type-21 = Langtidsopphold i institusjon
service-type-22 = Nattopphold i institusjon
service-type-23 = Tvang psykisk utviklingshemming – nødsituasjoner
service-type-24 = Helsehjelp med tvang
service-type-25 = Kommunal øyeblikkelig hjelp – døgnopphold
service-type-26 = Lokaliseringsteknologi (GPS)
service-type-27 = Elektronisk medisineringsstøtte
service-type-28 = Digitalt tilsyn
service-type-29 = Bolig som kommunen disponerer for helse- og omsorgsformål
