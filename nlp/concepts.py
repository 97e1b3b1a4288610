"""A small domain thesaurus for what citizens write about children's, families' and youth life.

Lexical features alone cannot see that "skoven", "bålpladsen" and "gyngerne" are about the same
thing; with a few hundred short answers there is too little co-occurrence to learn it (without these
groups, even a supervised classifier on the word/char TF-IDF reaches only ARI ~0.26 on our
known-themes set; see bench/themes/RESULTS.md). These groups
add one extra feature per concept ("§udeliv") to an answer that uses one of its words, so related
answers end up close without any trained model. They are guidance, not rules: clusters are still
found from the data, and labels are still built from the citizens' own words.

Patterns (matched against lowercased content words and their lemmas):
``word`` exact, ``word*`` prefix (compound head), ``*word`` suffix (compound tail).
Written from general domain knowledge for municipal surveys; two tuning passes looked only at
errors on the odd ids of the known-themes fixture (the even ids and the demo answers stay held out).
Compound tails must not catch unrelated words ("*tur" caught na-tur and kul-tur, "kost*" the verb
"koste"): tests/nlp/test_concepts.py lists such false friends. In `nlp.features` a concept word
counts less the later it comes in the answer (the theme mentioned first is usually the main one).
The weight of this block scales with the corpus' coverage, so off-domain text is not affected,
and it is off when one concept takes more than a quarter of the covered answers (a transport
campaign is all "§transport": the thesaurus cannot split it; issue 22). The same groups are also
a starter codebook for childhood campaigns (`nlp.codebook.childhood_starter`).
"""

from __future__ import annotations

import re
from functools import lru_cache


def _words(text: str) -> tuple[str, ...]:
    return tuple(text.split())


CONCEPTS: dict[str, tuple[str, ...]] = {
    "udeliv": _words(
        """
        natur* *natur skov* *skov strand* *strand park *park parker legeplads* *legeplads gynge*
        *gynge rutsjebane* sandkasse* klatre* bålplads* *bål bål shelter* sø søen eng haven
        grønt grøn *område udendørs ude udeliv friluft* vandhul* fiske* mark marken bakke*
        trampolin* *plæne plæne* træ træer vandrest* hav havet kyst* bade* *bad frisk luft
        mudder
        """
    ),
    "trafik": _words(
        """
        trafik* *trafik bil biler bilerne fart* *fart vej vejen *vej veje fortov* fodgænger*
        *gængerovergang *baneovergang lyskryds* kryds* *kryds cykelsti* *cykelsti cykle* cykel*
        *cykel skolevej* parkering* lastbil* traktor* hastighed* bump vejbump* rundkørsel*
        belysning*
        gadelys* lygte* mørk mørke mørkt krydse sti stien stier stierne lys lyset lampe* lamper
        kulsort skolepatrulje*
        """
    ),
    "tryghed": _words(
        """
        tryg tryghed utryg* sikker sikkerhed* usikker* politi* kriminal* hærværk* bande* vold*
        røveri* indbrud* overfald* frygt* bange farlig* fare nabo* *nabo utryghed* fyrværkeri*
        """
    ),
    "transport": _words(
        """
        bus busser bussen *bus bus* tog toget togstation* station* køreplan* afgang* rejsekort*
        billet* transport* kørsel kørekort* knallert* scooter* færge* *færge pendl* *pendl lift
        kørsel* køre kører kørte hente henter bringe tur ture turen cykeltur* bustur* togtur*
        minutter timer langt afstand* flextur* landsby* nabobyen bybus*
        """
    ),
    "skole": _words(
        """
        skole skolen *skole skole* lærer* *lærer klasse* *klasse undervisning* lektie* *lektie
        eksamen* karakter* frikvarter* elev* *elev gymnasi* efterskole* uddannelse* *uddannelse
        læring* lære matematik* dansk* engelsk* prøve* opgave* time* skoledag*
        skolegård* inklusion* specialklasse* lektiecafé* studie* stx hhx htx eud 10. udskoling*
        indskoling* mellemtrin*
        *vejleder vejleder* *vejledning fag* *fag gruppearbejde* tolærer* *lærerordning
        *lærertime* specialplads* læsning* læsefærdighed* programmering* skema* terminsprøve*
        afgangsprøve* test testen tests testene
        """
    ),
    "dagtilbud": _words(
        """
        vuggestue* *vuggestue børnehave* *børnehave dagpleje* *dagpleje pædagog* *pædagog
        institution* *institution sfo sfo'en fritidshjem* normering* personale* *personale stue
        stuen aflevering* afhentning* medhjælper* vikar* *vikar dagtilbud* åbningstid* lukkedag*
        puljeordning* ble bleer middagslur* voksne
        """
    ),
    "skærme": _words(
        """
        skærm* *skærm mobil* *mobil telefon* *telefon tablet* ipad* computer* gaming gamer*
        game* spil spille *spil tiktok* instagram* snapchat* snap* youtube* *medie medie*
        internet* online skærmtid* app apps fortnite minecraft roblox discord scroll* streamer*
        influencer* iphone* playstation* konsol*
        """
    ),
    "trivsel": _words(
        """
        stress* *stress angst* ensom* trivsel* *trivsel trives mistrivsel* mobning* mobbe*
        *mobning presset pres *pres depression* depressiv* psykolog* *psykolog psykisk*
        psykiatri* ked sårbar* selvskade* bekymr* ondt trist* udenfor sorg* selvværd* følelse*
        *følelse tale lytte* voksenven* mental* sundhedsplejerske* skolepsykolog* tristhed* glad
        glade ulykkelig* headspace samtale* førstehjælp
        psykiater* terapi* terapeut* selvtillid* selvmord* spiseforstyrrel*
        """
    ),
    "mad": _words(
        """
        mad maden *mad mad* madpakke* kantine* *kantine frugt* *frugt grønt* sund sundt sunde
        usund* sukker* slik kost kosten kostvaner* kostråd* måltid* *måltid spise* frokost*
        morgenmad* aftensmad* sodavand* energidrik* vand madordning* køkken* *køkken grøntsag*
        økologi* vægt*
        overvægt* motion* bevæge* bevægelse*
        søvn* sove sover sov sovet træt trætte træthed* sengetid* døgnrytme* vågen
        """
    ),
    "forening": _words(
        """
        forening* *forening klub* *klub træner* *træner hold holdet fodbold* håndbold* svømning*
        *svømning gymnastik* spejder* frivillig* kontingent* turnering* træning* *træning sport*
        idræt* *idræt badminton* tennis* ridning* ride hest* dans danse* kampsport* karate*
        judo* atletik* stævne* kamp kampe fællesskab* *fællesskab hal hallen *hal
        spejd* fdf kfum* kfuk* sammenhold* naboskab* byfest* vejfest* gadefest* legeaftale*
        tilflytter* medlem* esport* e-sport* fællesspisning*
        """
    ),
    "kultur": _words(
        """
        bibliotek* *bibliotek biograf* koncert* musik* *musik museum* museer* teater* *teater
        festival* kultur* *kultur svømmehal* vandland* bowling* aktivitet* *aktivitet
        arrangement* *arrangement kunst* *kunst tegne* maler* værksted* kreativ* sang* *sang kor
        band instrument* tilbud tilbuddet *tilbud oplevelse* sommerferie* ferieaktivitet*
        legeland* zoo dyrepark* event*
        bogbus* bog bøger bøgerne forestilling* film* markedsdag* fastelavn*
        """
    ),
    "mødesteder": _words(
        """
        ungdomsklub* *ungdomsklub fritidsklub* *fritidsklub klubben ungdomshus* værested*
        *værested mødested* *mødested hænge hænger hang ude café* cafe* steder stedet *sted
        lokale* *lokale opholds* skatepark* skaterbane* *bane bane* multibane* tag hygge* *hygge
        åben åbent lukket lukker aften aftenen weekend* fredag* lørdag* samles mødes sted chill*
        chille indendørs rum rummet værtshus* sofa*
        """
    ),
    "familie": _words(
        """
        familie* *familie arbejde arbejder *arbejde arbejdstid* arbejdsliv* job jobbet *job
        hverdag* *hverdag travl* ferie ferien *ferie bedsteforældre* bedstemor* bedstefar*
        mormor morfar farmor farfar søskende* nærvær* tiden hjemme hjem aftensmad* mor far
        mormor* deltid* fuldtid* timer puste overskud* hygge søndag* weekend weekenden
        arbejds* samvær* familietid*
        """
    ),
    "forældrestøtte": _words(
        """
        sundhedsplejerske* *sundhedsplejerske forældregruppe* mødregruppe* fædregruppe*
        rådgivning* *rådgivning støtte* barsel* netværk* *netværk fødsel* amning* amme*
        forældrekursus* kursus* sagsbehandler* familiehus* familiecenter* familierådgivning*
        vejledning* alenemor* alenefar* enlig* baby* spædbarn* nyfødt*
        grædende græde* jordemoder* læge* *læge vagtlæge*
        sundhedspleje* forældrecafé* forældrekursus* forældrerådgivning* forældreforløb*
        sprogudvikling* graviditet* gravid* hjemmebesøg* *rådgiver rådgiver*
        """
    ),
    "økonomi": _words(
        """
        pris* *pris dyr dyrt dyre billig* gratis penge pengene råd økonomi* *økonomi løn*
        betale* koste* kontingent* tilskud* fripladser friplads* spare* *besparelse besparelse*
        nedskæring* budget* kr kroner
        """
    ),
    "fritidsjob": _words(
        """
        fritidsjob* studiejob* job jobbet arbejde løn lommepenge* ansat* praktik* erhverv* cv
        ansøgning*
        """
    ),
    "indflydelse": _words(
        """
        indflydelse* ungdomsråd* *råd demokrati* politiker* *politiker byråd* stemme* høre hørt
        lytte* medbestemmelse* inddrage* inddragelse* beslutning* spørge* mening*
        """
    ),
    "rusmidler": _words(
        """
        alkohol* fest fester festen druk* fuld fulde stoffer hash kokain* rygning* ryge*
        cigaret* vape* *vape snus* øl øllen bajer* rus* beruset* nikotin*
        """
    ),
    "handicap": _words(
        """
        handicap* *handicap diagnose* autis* adhd add specialskole* specialtilbud* kørestol*
        tilgængelig* særlig* inkluderende
        """
    ),
    "miljø": _words(
        """
        klima* miljø* *miljø affald* skrald* *skrald genbrug* forurening* plastik* bæredygtig*
        glasskår* øldåse* rengøring* rent beskidt* snavset* toilet* *toilet toiletter*
        hundelort* lort
        """
    ),
}


def _compile(patterns: tuple[str, ...]) -> tuple[frozenset[str], tuple[str, ...], tuple[str, ...]]:
    exact = frozenset(p for p in patterns if "*" not in p)
    heads = tuple(p[:-1] for p in patterns if p.endswith("*") and not p.startswith("*"))
    tails = tuple(p[1:] for p in patterns if p.startswith("*") and not p.endswith("*"))
    return exact, heads, tails


_COMPILED = {name: _compile(patterns) for name, patterns in CONCEPTS.items()}
_TOKEN_RE = re.compile(r"^[^\W\d_][\w'.-]*$")


@lru_cache(maxsize=200_000)
def concepts_of(word: str) -> tuple[str, ...]:
    """Concepts whose patterns match one lowercase word (a surface form or a lemma)."""
    if not _TOKEN_RE.match(word):
        return ()
    found = []
    for name, (exact, heads, tails) in _COMPILED.items():
        if word in exact or word.startswith(heads) or word.endswith(tails):
            found.append(name)
    return tuple(found)


def concept_tokens(lemmas: list[str], surfaces: list[str]) -> list[str]:
    """One "§concept" token per word that belongs to a concept (either by lemma or surface)."""
    tokens: list[str] = []
    for lemma, surface in zip(lemmas, surfaces, strict=True):
        names = set(concepts_of(lemma)) | set(concepts_of(surface))
        tokens.extend("§" + name for name in sorted(names))
    return tokens
