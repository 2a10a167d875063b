"""The demo data that `manage.py seed_demo` loads: people, the board, topics and their review
policies, references, the editorial policy, and articles written for the demo.

Every person and institution here is fictional (licence numbers say DEMO). The references are
real publications, cited by their published DOI/PMID. The articles were written for this demo:
they are medically sensible general information, not clinical advice, and each says so in the
disclaimer the API adds.

Each article names the state the seed drives it to (`path`); the command walks it there through
`governance.workflow.services`, so the demo fills the audit log and the changes feed like real use.
"""

from __future__ import annotations

from typing import Any

# --- people -------------------------------------------------------------------------------------

SPECIALTIES = [
    ("cardiology", "Cardiology"),
    ("general-practice", "General practice"),
    ("emergency-medicine", "Emergency medicine"),
    ("infectious-diseases", "Infectious diseases"),
    ("endocrinology", "Endocrinology"),
    ("psychiatry", "Psychiatry"),
]

# username → user fields and role. Board members are staff so they can sign in to the admin.
STAFF = [
    {"username": "editor", "first_name": "Sam", "last_name": "Whitlock", "group": "Writers", "is_staff": False,
     "role": "writer", "signs_in_at": ["/editor/login/"]},
    {"username": "chief", "first_name": "Morgan", "last_name": "Achterberg", "group": "Managing editors",
     "is_staff": True, "role": "managing editor", "signs_in_at": ["/admin/", "/editor/login/"]},
]

# Licence expiry is given in days from the day the seed first runs, so valid licences stay valid.
BOARD = [
    {
        "username": "reviewer1", "first_name": "Helena", "last_name": "Marsh-Ibekwe",
        "printed_name": "Dr Helena Marsh-Ibekwe", "credentials": "MD, FRCP",
        "specialties": ["cardiology"],
        "affiliation": "Department of Cardiology, Northgate University Hospital (fictional)",
        "bio": "Consultant cardiologist with a clinical interest in heart failure and hypertension. "
               "A fictional board member created for the Imprimatur demo.",
        "licence_number": "DEMO-GMC-7301846", "licence_jurisdiction": "General Medical Council (UK), demo record",
        "licence_days": 730,
    },
    {
        "username": "reviewer2", "first_name": "Tomasz", "last_name": "Ferreira-Lund",
        "printed_name": "Dr Tomasz Ferreira-Lund", "credentials": "MBBS, MRCGP",
        "specialties": ["general-practice", "psychiatry"],
        "affiliation": "Riverside Family Practice, Eastmoor (fictional)",
        "bio": "General practitioner and trainer with twenty years in community practice and a diploma in "
               "mental health. A fictional board member created for the Imprimatur demo.",
        "licence_number": "DEMO-GMC-6120457", "licence_jurisdiction": "General Medical Council (UK), demo record",
        "licence_days": 540,
    },
    {
        "username": "reviewer3", "first_name": "Aiyana", "last_name": "Castellanos",
        "printed_name": "Dr Aiyana Castellanos", "credentials": "MD, FACEP",
        "specialties": ["emergency-medicine", "infectious-diseases"],
        "affiliation": "Emergency Department, Lakeshore Regional Medical Center (fictional)",
        "bio": "Emergency physician who leads her department's sepsis quality programme. "
               "A fictional board member created for the Imprimatur demo.",
        "licence_number": "DEMO-MD-A48213", "licence_jurisdiction": "State medical board (USA), demo record",
        "licence_days": 400,
    },
    {
        "username": "reviewer-expired", "first_name": "Bernard", "last_name": "Oyelaran-Whitcombe",
        "printed_name": "Dr Bernard Oyelaran-Whitcombe", "credentials": "MD, PhD",
        "specialties": ["endocrinology"],
        "affiliation": "Diabetes Centre, Westfield General Hospital (fictional)",
        "bio": "Endocrinologist. His licence record has lapsed, so the rules refuse to assign him "
               "until it is renewed. A fictional board member created for the Imprimatur demo.",
        "licence_number": "DEMO-GMC-5092118", "licence_jurisdiction": "General Medical Council (UK), demo record",
        "licence_days": -45,
    },
]

# Every member's credentials are verified by the managing editor (chief) when the seed first runs:
# a verification by someone else, kept in the audit chain like any other. reviewer-expired has since
# proposed a renewed licence, which chief has not verified yet: until then the licence stays
# expired and the rules keep refusing him.
VERIFIED_BY = "chief"
VERIFICATION_NOTE = "Licence record checked on the issuing body's public register (demo record)."
PENDING_RENEWAL = {
    "username": "reviewer-expired", "licence_days": 3 * 365,
    "note": "Licence renewed with the General Medical Council after the lapse; the register shows the new expiry "
            "date (demo record).",
}

# (member username, topic slug, nature, counterparty, description)
CONFLICTS = [
    ("reviewer3", "diabetes-and-metabolism", "consulting", "Halvorsen Metabolic Ltd (fictional)",
     "Paid adviser on the design of a glucose-monitoring app, 2024 to date."),
    ("reviewer3", "infections", "none", "", "Nothing to declare on infections and sepsis."),
]

# --- topics and review policies -----------------------------------------------------------------

# The first topic by slug (cardiovascular-health) keeps the default policy, and reviewer1 and
# reviewer2 have no conflict on it: API.md promises integrators that the two form a quorum there.
TOPICS = [
    ("cardiovascular-health", "Heart and circulation",
     "Blood pressure, heart failure, heart rhythm and cholesterol."),
    ("diabetes-and-metabolism", "Diabetes and metabolism", "Type 2 diabetes and its prevention."),
    ("digital-health", "Digital health", "Apps, symptom checkers and software used in care."),
    ("healthy-living", "Healthy living", "Physical activity and everyday prevention."),
    ("infections", "Infections and sepsis", "Serious infection, sepsis and vaccination."),
    ("mental-health", "Mental health and sleep", "Depression, sleep and dementia care."),
    ("musculoskeletal-health", "Bones, joints and muscles", "Back pain and other musculoskeletal problems."),
]

# (topic slug or None for every topic, risk tier, approvals, required specialties, interval days,
#  unpublish grace days)
POLICIES = [
    (None, "standard", 2, [], 365, None),
    (None, "high", 2, [], 180, None),
    ("cardiovascular-health", "standard", 2, [], 365, None),
    ("infections", "high", 2, ["emergency-medicine"], 180, 60),
    ("mental-health", "standard", 2, [], 365, None),
    # Back pain advice is re-reviewed every four months, so the review-date load report has reviews
    # falling due within its 26 weeks on demo data.
    ("musculoskeletal-health", "standard", 2, [], 120, None),
]

# Days from assignment to the signed decision, per reviewer (the services stamp both "now"; the
# seed moves `assigned_at` back by this much, plus a day per article, so board turnaround is real).
TURNAROUND_DAYS = {"reviewer1": 3.5, "reviewer2": 6.0, "reviewer3": 9.25}

# --- the editorial policy -----------------------------------------------------------------------

EDITORIAL_POLICY_VERSION = "1.0"
EDITORIAL_POLICY = """\
# How we review medical content

Every article we publish has been read and approved, word for word, by named members of our
medical advisory board. This page explains how that works.

## Who reviews

Board members are practising clinicians. We hold a current licence record for each of them, with
its issuing body and expiry date; a member whose licence has lapsed cannot review until it is
renewed. Each member lists their specialties, and a topic's review policy can require that one of
the approvers practises a particular specialty (for example, emergency medicine for sepsis).

## How an article is approved

1. A writer drafts the article, citing every factual claim to a numbered reference.
2. The managing editor assigns reviewers. Nobody reviews their own writing, and a member who has
   declared a conflict of interest on the topic is not assigned.
3. Each reviewer reads the exact text under review and either approves it or asks for changes.
   An approval is an electronic signature: the reviewer re-enters their password, and we keep
   their name, credentials, the time and a fingerprint of the text they approved.
4. An article needs two approvals, or three if software helped write the draft. It is published
   only once enough approvals are in.

If the text changes after approval, the approvals no longer count and the article is reviewed
again.

## Keeping articles current

Each article shows when it was last reviewed and when its next review is due: after a year for
most topics, sooner for high-risk ones. When a review falls due, or when a source we cite is
retracted, the article is flagged for re-review; it stays visible with that status until the
board has looked at it again. Significant changes are listed in the article's change history.

## Conflicts of interest

Board members declare their financial and non-financial interests per topic, using the
categories of the ICMJE disclosure form, including an explicit declaration that they have
nothing to declare. Declarations are kept with every review.

## Corrections and withdrawals

If we find an error, we correct the article and re-review it. If an article can no longer be
relied on, we withdraw it and say why. Every step is recorded in a tamper-evident audit log.
"""

# --- references ---------------------------------------------------------------------------------
# Real publications. Keys are what the article bodies cite (`[@key]`).

REFERENCES: dict[str, dict[str, Any]] = {
    # heart and circulation
    "whelton2018": {
        "kind": "guideline",
        "title": "2017 ACC/AHA/AAPA/ABC/ACPM/AGS/APhA/ASH/ASPC/NMA/PCNA Guideline for the Prevention, Detection, "
                 "Evaluation, and Management of High Blood Pressure in Adults",
        "authors": ["Whelton PK", "Carey RM", "Aronow WS"], "container": "Hypertension", "year": 2018,
        "doi": "10.1161/HYP.0000000000000065", "pmid": "29133356",
    },
    "ettehad2016": {
        "kind": "systematic_review",
        "title": "Blood pressure lowering for prevention of cardiovascular disease and death: "
                 "a systematic review and meta-analysis",
        "authors": ["Ettehad D", "Emdin CA", "Kiran A"], "container": "Lancet", "year": 2016,
        "doi": "10.1016/S0140-6736(15)01225-8", "pmid": "26724178",
    },
    "sprint2015": {
        "kind": "research",
        "title": "A Randomized Trial of Intensive versus Standard Blood-Pressure Control",
        "authors": ["SPRINT Research Group"], "container": "N Engl J Med", "year": 2015,
        "doi": "10.1056/NEJMoa1511939", "pmid": "26551272",
    },
    "nice-ng136": {
        "kind": "guideline",
        "title": "Hypertension in adults: diagnosis and management (NG136)",
        "authors": ["National Institute for Health and Care Excellence"], "container": "NICE", "year": 2019,
        "url": "https://www.nice.org.uk/guidance/ng136",
    },
    "mcdonagh2021": {
        "kind": "guideline",
        "title": "2021 ESC Guidelines for the diagnosis and treatment of acute and chronic heart failure",
        "authors": ["McDonagh TA", "Metra M", "Adamo M"], "container": "Eur Heart J", "year": 2021,
        "doi": "10.1093/eurheartj/ehab368", "pmid": "34447992",
    },
    "mcmurray2019": {
        "kind": "research",
        "title": "Dapagliflozin in Patients with Heart Failure and Reduced Ejection Fraction",
        "authors": ["McMurray JJV", "Solomon SD", "Inzucchi SE"], "container": "N Engl J Med", "year": 2019,
        "doi": "10.1056/NEJMoa1911303", "pmid": "31535829",
    },
    "mcmurray2014": {
        "kind": "research",
        "title": "Angiotensin-neprilysin inhibition versus enalapril in heart failure",
        "authors": ["McMurray JJV", "Packer M", "Desai AS"], "container": "N Engl J Med", "year": 2014,
        "doi": "10.1056/NEJMoa1409077", "pmid": "25176015",
    },
    "savarese2023": {
        "kind": "review",
        "title": "Global burden of heart failure: a comprehensive and updated review of epidemiology",
        "authors": ["Savarese G", "Becher PM", "Lund LH"], "container": "Cardiovasc Res", "year": 2023,
        "doi": "10.1093/cvr/cvac013", "pmid": "35150240",
    },
    "hindricks2021": {
        "kind": "guideline",
        "title": "2020 ESC Guidelines for the diagnosis and management of atrial fibrillation developed in "
                 "collaboration with the European Association for Cardio-Thoracic Surgery (EACTS)",
        "authors": ["Hindricks G", "Potpara T", "Dagres N"], "container": "Eur Heart J", "year": 2021,
        "doi": "10.1093/eurheartj/ehaa612", "pmid": "32860505",
    },
    "ruff2014": {
        "kind": "systematic_review",
        "title": "Comparison of the efficacy and safety of new oral anticoagulants with warfarin in patients "
                 "with atrial fibrillation: a meta-analysis of randomised trials",
        "authors": ["Ruff CT", "Giugliano RP", "Braunwald E"], "container": "Lancet", "year": 2014,
        "doi": "10.1016/S0140-6736(13)62343-0", "pmid": "24315724",
    },
    "lip2010": {
        "kind": "research",
        "title": "Refining clinical risk stratification for predicting stroke and thromboembolism in atrial "
                 "fibrillation using a novel risk factor-based approach: the euro heart survey on atrial fibrillation",
        "authors": ["Lip GYH", "Nieuwlaat R", "Pisters R"], "container": "Chest", "year": 2010,
        "doi": "10.1378/chest.09-1584", "pmid": "19762550",
    },
    "ctt2010": {
        "kind": "systematic_review",
        "title": "Efficacy and safety of more intensive lowering of LDL cholesterol: a meta-analysis of data "
                 "from 170,000 participants in 26 randomised trials",
        "authors": ["Cholesterol Treatment Trialists' (CTT) Collaboration"], "container": "Lancet", "year": 2010,
        "doi": "10.1016/S0140-6736(10)61350-5", "pmid": "21067804",
    },
    "ctt2022": {
        "kind": "systematic_review",
        "title": "Effect of statin therapy on muscle symptoms: an individual participant data meta-analysis "
                 "of large-scale, randomised, double-blind trials",
        "authors": ["Cholesterol Treatment Trialists' Collaboration"], "container": "Lancet", "year": 2022,
        "doi": "10.1016/S0140-6736(22)01545-8", "pmid": "36049498",
    },
    "wood2020": {
        "kind": "research",
        "title": "N-of-1 Trial of a Statin, Placebo, or No Treatment to Assess Side Effects",
        "authors": ["Wood FA", "Howard JP", "Finegold JA"], "container": "N Engl J Med", "year": 2020,
        "doi": "10.1056/NEJMc2031173", "pmid": "33196154",
    },
    # diabetes
    "knowler2002": {
        "kind": "research",
        "title": "Reduction in the incidence of type 2 diabetes with lifestyle intervention or metformin",
        "authors": ["Knowler WC", "Barrett-Connor E", "Fowler SE"], "container": "N Engl J Med", "year": 2002,
        "doi": "10.1056/NEJMoa012512", "pmid": "11832527",
    },
    "tuomilehto2001": {
        "kind": "research",
        "title": "Prevention of type 2 diabetes mellitus by changes in lifestyle among subjects with impaired "
                 "glucose tolerance",
        "authors": ["Tuomilehto J", "Lindstrom J", "Eriksson JG"], "container": "N Engl J Med", "year": 2001,
        "doi": "10.1056/NEJM200105033441801", "pmid": "11333990",
    },
    "ada-standards": {
        "kind": "website",
        "title": "Standards of Care in Diabetes",
        "authors": ["American Diabetes Association Professional Practice Committee"], "container": "Diabetes Care",
        "year": 2024, "url": "https://professional.diabetes.org/standards-of-care",
    },
    # infections
    "singer2016": {
        "kind": "guideline",
        "title": "The Third International Consensus Definitions for Sepsis and Septic Shock (Sepsis-3)",
        "authors": ["Singer M", "Deutschman CS", "Seymour CW"], "container": "JAMA", "year": 2016,
        "doi": "10.1001/jama.2016.0287", "pmid": "26903338",
    },
    "evans2021": {
        "kind": "guideline",
        "title": "Surviving sepsis campaign: international guidelines for management of sepsis and septic "
                 "shock 2021",
        "authors": ["Evans L", "Rhodes A", "Alhazzani W"], "container": "Intensive Care Med", "year": 2021,
        "doi": "10.1007/s00134-021-06506-y", "pmid": "34599691",
    },
    "rudd2020": {
        "kind": "research",
        "title": "Global, regional, and national sepsis incidence and mortality, 1990-2017: analysis for the "
                 "Global Burden of Disease Study",
        "authors": ["Rudd KE", "Johnson SC", "Agesa KM"], "container": "Lancet", "year": 2020,
        "doi": "10.1016/S0140-6736(19)32989-7", "pmid": "31954465",
    },
    # musculoskeletal and activity
    "qaseem2017": {
        "kind": "guideline",
        "title": "Noninvasive Treatments for Acute, Subacute, and Chronic Low Back Pain: A Clinical Practice "
                 "Guideline From the American College of Physicians",
        "authors": ["Qaseem A", "Wilt TJ", "McLean RM"], "container": "Ann Intern Med", "year": 2017,
        "doi": "10.7326/M16-2367", "pmid": "28192789",
    },
    "foster2018": {
        "kind": "review",
        "title": "Prevention and treatment of low back pain: evidence, challenges, and promising directions",
        "authors": ["Foster NE", "Anema JR", "Cherkin D"], "container": "Lancet", "year": 2018,
        "doi": "10.1016/S0140-6736(18)30489-6", "pmid": "29573872",
    },
    "nice-ng59": {
        "kind": "guideline",
        "title": "Low back pain and sciatica in over 16s: assessment and management (NG59)",
        "authors": ["National Institute for Health and Care Excellence"], "container": "NICE", "year": 2016,
        "url": "https://www.nice.org.uk/guidance/ng59",
    },
    "bull2020": {
        "kind": "guideline",
        "title": "World Health Organization 2020 guidelines on physical activity and sedentary behaviour",
        "authors": ["Bull FC", "Al-Ansari SS", "Biddle S"], "container": "Br J Sports Med", "year": 2020,
        "doi": "10.1136/bjsports-2020-102955", "pmid": "33239350",
    },
    "ekelund2019": {
        "kind": "systematic_review",
        "title": "Dose-response associations between accelerometry measured physical activity and sedentary "
                 "time and all cause mortality: systematic review and harmonised meta-analysis",
        "authors": ["Ekelund U", "Tarp J", "Steene-Johannessen J"], "container": "BMJ", "year": 2019,
        "doi": "10.1136/bmj.l4570", "pmid": "31434697",
    },
    # mental health and sleep
    "qaseem2016": {
        "kind": "guideline",
        "title": "Management of Chronic Insomnia Disorder in Adults: A Clinical Practice Guideline From the "
                 "American College of Physicians",
        "authors": ["Qaseem A", "Kansagara D", "Forciea MA"], "container": "Ann Intern Med", "year": 2016,
        "doi": "10.7326/M15-2175", "pmid": "27136449",
    },
    "trauer2015": {
        "kind": "systematic_review",
        "title": "Cognitive Behavioral Therapy for Chronic Insomnia: A Systematic Review and Meta-analysis",
        "authors": ["Trauer JM", "Qian MY", "Doyle JS"], "container": "Ann Intern Med", "year": 2015,
        "doi": "10.7326/M14-2841", "pmid": "26054060",
    },
    "livingston2020": {
        "kind": "review",
        "title": "Dementia prevention, intervention, and care: 2020 report of the Lancet Commission",
        "authors": ["Livingston G", "Huntley J", "Sommerlad A"], "container": "Lancet", "year": 2020,
        "doi": "10.1016/S0140-6736(20)30367-6", "pmid": "32738937",
    },
    "nice-ng97": {
        "kind": "guideline",
        "title": "Dementia: assessment, management and support for people living with dementia and their "
                 "carers (NG97)",
        "authors": ["National Institute for Health and Care Excellence"], "container": "NICE", "year": 2018,
        "url": "https://www.nice.org.uk/guidance/ng97",
    },
    "cipriani2018": {
        "kind": "systematic_review",
        "title": "Comparative efficacy and acceptability of 21 antidepressant drugs for the acute treatment of "
                 "adults with major depressive disorder: a systematic review and network meta-analysis",
        "authors": ["Cipriani A", "Furukawa TA", "Salanti G"], "container": "Lancet", "year": 2018,
        "doi": "10.1016/S0140-6736(17)32802-7", "pmid": "29477251",
    },
    "nice-ng222": {
        "kind": "guideline",
        "title": "Depression in adults: treatment and management (NG222)",
        "authors": ["National Institute for Health and Care Excellence"], "container": "NICE", "year": 2022,
        "url": "https://www.nice.org.uk/guidance/ng222",
    },
    # digital health
    "semigran2015": {
        "kind": "research",
        "title": "Evaluation of symptom checkers for self diagnosis and triage: audit study",
        "authors": ["Semigran HL", "Linder JA", "Gidengil C", "Mehrotra A"], "container": "BMJ", "year": 2015,
        "doi": "10.1136/bmj.h3480", "pmid": "26157077",
    },
    # Fictional references (DOI prefix 10.5555 is reserved for examples): the demo retracts the
    # first through the retraction service, and the article citing them shows old evidence.
    "demo-vitd-trial2008": {
        "kind": "research",
        "title": "Vitamin D supplements and falls in women over 70: a randomised trial (fictional, demo data)",
        "authors": ["Example A", "Sample B"], "container": "Journal of Demonstration Medicine", "year": 2008,
        "doi": "10.5555/imprimatur.demo.2008.001",
    },
    "demo-falls-cohort2011": {
        "kind": "research",
        "title": "Falls and fractures in older people living at home: a cohort study (fictional, demo data)",
        "authors": ["Example C", "Sample D"], "container": "Journal of Demonstration Medicine", "year": 2011,
        "doi": "10.5555/imprimatur.demo.2011.002",
    },
    "eu-mdr-2017": {
        "kind": "regulatory",
        "title": "Regulation (EU) 2017/745 of the European Parliament and of the Council on medical devices",
        "authors": ["European Parliament and Council of the European Union"],
        "container": "Official Journal of the European Union", "year": 2017,
        "url": "https://eur-lex.europa.eu/eli/reg/2017/745/oj",
    },
}

# --- articles -----------------------------------------------------------------------------------
# `path` is the state the seed drives each article to; see seed_demo for the steps of each.
# `reviewers` sign in that order. `later` (optional) is a second revision: its `insert` text goes
# just before the text `before`, with `references` added to the revision. `changes_requested`
# (optional) is a first review round in which one reviewer asks for `paragraph` to be added.

ARTICLES: list[dict[str, Any]] = [
    {
        "slug": "high-blood-pressure-what-the-numbers-mean",
        "topic": "cardiovascular-health",
        "path": "published_twice",
        "reviewers": ["reviewer1", "reviewer2"],
        "title": "High blood pressure: what the numbers mean",
        "summary": "How blood pressure is measured, when a reading counts as high, and why lowering it "
                   "protects the heart, brain and kidneys.",
        "references": ["whelton2018", "ettehad2016", "sprint2015"],
        "body": """\
Blood pressure is the force of blood pushing against the walls of your arteries. It is written as
two numbers, such as 128/82 mmHg. The first (systolic) is the pressure while the heart contracts;
the second (diastolic) is the pressure while it relaxes between beats.

## When is blood pressure "high"?

A single reading says little: blood pressure changes from minute to minute with activity, posture,
caffeine, pain and even the stress of being in a clinic. Hypertension is diagnosed from repeated
readings taken on different occasions. Thresholds differ slightly between guidelines. The American
guideline of 2017 calls a clinic average of 130/80 mmHg or more stage 1 hypertension and
140/90 mmHg or more stage 2 [@whelton2018]. Many European and British guidelines still use
140/90 mmHg in the clinic as the point at which hypertension is diagnosed.

## Why it matters

High blood pressure rarely causes symptoms, yet over years it damages the lining of the arteries
and makes the heart work harder. It is one of the leading causes of stroke, heart attack, heart
failure, kidney disease and vascular dementia.

The benefit of lowering it is well established. A large pooled analysis of randomised trials found
that every 10 mmHg reduction in systolic pressure cut the risk of major cardiovascular events by
about a fifth and of stroke by about a quarter, whatever the starting pressure [@ettehad2016].

## How low should it go?

Targets depend on age, other conditions and how well treatment is tolerated. In one large trial
of adults at high cardiovascular risk without diabetes, aiming for a systolic pressure below
120 mmHg rather than below 140 mmHg reduced cardiovascular events and deaths, at the cost of more
episodes of low blood pressure, fainting and changes in kidney function [@sprint2015]. Most people
are advised a target below 140/90 mmHg in the clinic, and lower when they tolerate it; your
clinician will agree a target with you.

## What lowers blood pressure

- Less salt: most salt in the diet comes from bread, processed meat, ready meals and sauces.
- Regular physical activity, a healthy weight and alcohol within recommended limits.
- Not smoking, which does not raise blood pressure for long but multiplies the harm it does.
- Medicines, when lifestyle changes are not enough or the risk is already high. Several classes
  work well; many people need two or more at low doses rather than one at a high dose.

Blood pressure medicines work only while they are taken. If side effects bother you, talk to your
clinician before stopping: there is almost always an alternative.

## When to get help urgently

A very high reading (for example 180/120 mmHg or more) together with chest pain, breathlessness,
severe headache, confusion, weakness or changes in vision needs emergency care.
""",
        "later": {
            "before": "## What lowers blood pressure",
            "insert": """\
## Measuring at home

Home readings help to confirm the diagnosis and to follow treatment, because they avoid the
"white-coat" effect of the clinic. Guidelines recommend confirming a high clinic reading with
home or ambulatory (24-hour) monitoring before starting treatment [@nice-ng136]. Use a validated
upper-arm monitor with a cuff that fits, sit quietly for five minutes with your back supported
and your arm resting at heart level, and take two readings a minute apart, morning and evening,
for about a week. Home averages run lower than clinic readings: 135/85 mmHg at home corresponds
roughly to 140/90 mmHg in the clinic.

""",
            "references": ["nice-ng136"],
            "change_note": "Added guidance on measuring blood pressure at home and confirming the diagnosis "
                           "with home or ambulatory readings.",
            "reviewers": ["reviewer1", "reviewer2"],
        },
        "variants": [
            {"audience": "patient",
             "summary": "What your blood pressure numbers mean and what you can do about them.",
             "body": """\
Your blood pressure reading has two numbers. The top one is the pressure when your heart beats;
the bottom one is the pressure between beats. One high reading does not mean you have high blood
pressure: it is diagnosed from several readings on different days.

High blood pressure usually causes no symptoms, but over the years it raises the chance of a
stroke or heart attack. Bringing it down helps: in trials, a drop of 10 in the top number lowered
the risk of stroke by about a quarter [@ettehad2016].

Eating less salt, moving more, keeping to a healthy weight and drinking less alcohol all help.
Many people also need tablets, and often two low-dose tablets work better than one strong one.
If a medicine disagrees with you, talk to your doctor or pharmacist rather than stopping it.
Ask your clinician what your own target is [@whelton2018].
"""},
            {"audience": "clinician",
             "summary": "Thresholds, targets and the evidence behind them, in brief.",
             "body": """\
Diagnose hypertension on repeated measurements, not a single clinic reading. The 2017 ACC/AHA
guideline defines stage 1 as 130-139/80-89 mmHg and stage 2 as at least 140/90 mmHg
[@whelton2018]; European and UK thresholds remain 140/90 mmHg in clinic.

The relative benefit of lowering systolic pressure is consistent across baseline pressures:
roughly 20% fewer major cardiovascular events per 10 mmHg [@ettehad2016]. Intensive targets
(systolic below 120 mmHg) reduced events in high-risk adults without diabetes, with more
hypotension, syncope, electrolyte disturbance and acute kidney injury [@sprint2015]; individualise
the target and check orthostatic pressure in older patients. Prefer single-pill combinations to
improve adherence.
"""},
        ],
    },
    {
        "slug": "heart-failure-medicines",
        "related": ["high-blood-pressure-what-the-numbers-mean"],
        "topic": "cardiovascular-health",
        "path": "published",
        "reviewers": ["reviewer1", "reviewer2"],
        "title": "Heart failure with reduced ejection fraction: the medicines that help",
        "summary": "Four groups of medicines lengthen life and keep people out of hospital when the heart "
                   "pumps weakly. What they are and what to expect.",
        "references": ["savarese2023", "mcdonagh2021", "mcmurray2014", "mcmurray2019"],
        "body": """\
Heart failure means the heart cannot pump enough blood to meet the body's needs at normal filling
pressures. It is common, especially after the age of 70, and it remains a leading reason for
hospital admission in older adults [@savarese2023]. The most common symptoms are breathlessness,
tiredness and swollen ankles.

Doctors describe heart failure partly by the *ejection fraction*: the share of blood the main
pumping chamber pushes out with each beat. When it is 40% or less, the condition is called heart
failure with reduced ejection fraction. For this type there is strong evidence that medicines
change the outlook, not only the symptoms.

## The four groups of medicines

European guidelines recommend that, unless there is a reason not to, people with reduced ejection
fraction take a medicine from each of four groups [@mcdonagh2021]:

1. **An ACE inhibitor, or an angiotensin receptor-neprilysin inhibitor (ARNI).** In a large trial,
   the ARNI sacubitril/valsartan reduced deaths from cardiovascular causes and hospital admissions
   for heart failure compared with the ACE inhibitor enalapril [@mcmurray2014].
2. **A beta-blocker** such as bisoprolol, carvedilol or metoprolol succinate, which slows the heart
   and protects it from the effects of stress hormones.
3. **A mineralocorticoid receptor antagonist** (spironolactone or eplerenone).
4. **An SGLT2 inhibitor** (dapagliflozin or empagliflozin). Dapagliflozin lowered the risk of
   worsening heart failure or cardiovascular death, in people with and without diabetes
   [@mcmurray2019].

Diuretics ("water tablets") are added to clear fluid and ease breathlessness; they relieve symptoms
but are not one of the four groups that improve survival.

## Starting and adjusting treatment

The medicines are usually started at low doses and increased step by step, with blood tests to
check kidney function and potassium. Some people feel more tired or dizzy for a few weeks at first.
It can take several months to reach the doses shown to work, and this is worth the effort.

## Living with heart failure

- Weigh yourself every morning. A gain of more than about 2 kg in three days can mean fluid is
  building up; contact your heart failure team.
- Stay active within your limits; cardiac rehabilitation programmes help.
- Have your yearly flu vaccine and the pneumococcal vaccine.
- Check with a pharmacist before taking anti-inflammatory painkillers such as ibuprofen, which
  can make heart failure worse.

Seek urgent help for breathlessness at rest, chest pain, fainting, or breathlessness that wakes
you at night and does not settle.
""",
        "variants": [
            {"audience": "patient", "summary": "Your heart failure medicines, and why there are several.",
             "body": """\
If your heart pumps weakly, you will probably be offered medicines from four different groups.
Each works in a different way, and together they help you live longer and stay out of hospital
[@mcdonagh2021]. One of them, dapagliflozin, was first used for diabetes but also helps people
whose heart pumps weakly, whether or not they have diabetes [@mcmurray2019].

Doses start low and go up slowly, with blood tests along the way. Feeling a little tired or
light-headed at first is common and often passes. Weigh yourself every morning and call your
heart failure team if your weight goes up quickly.
"""},
            {"audience": "caregiver", "summary": "How to help someone taking heart failure medicines.",
             "body": """\
People with heart failure often take several medicines, and the doses change over the first few
months [@mcdonagh2021]. A written list and a weekly pill organiser help. Go to appointments when
you can: blood tests guide each dose change.

Watch for warning signs: quick weight gain, more swollen ankles, needing more pillows to breathe
at night, or new confusion. Call the heart failure team early rather than waiting. Encourage gentle
activity every day and keep ibuprofen-type painkillers out of the medicine cupboard unless a
clinician has said they are safe.
"""},
            {"audience": "clinician",
             "summary": "Quadruple therapy for HFrEF: evidence and titration.",
             "body": """\
For HFrEF (LVEF 40% or less), the 2021 ESC guideline gives class I recommendations to an ACE
inhibitor or ARNI, a beta-blocker, an MRA and an SGLT2 inhibitor [@mcdonagh2021]. Sacubitril/
valsartan reduced the composite of cardiovascular death or heart failure hospitalisation versus
enalapril [@mcmurray2014]; dapagliflozin did the same irrespective of diabetes status
[@mcmurray2019]. Start all four early at low doses rather than sequentially at full doses;
monitor potassium and eGFR after each step; a modest initial fall in eGFR is expected with
RAS inhibitors and SGLT2 inhibitors and is not by itself a reason to stop.
"""},
        ],
    },
    {
        "slug": "atrial-fibrillation-and-stroke-prevention",
        "related": ["high-blood-pressure-what-the-numbers-mean"],
        "topic": "cardiovascular-health",
        "path": "published_then_edited",
        "reviewers": ["reviewer1", "reviewer2"],
        "title": "Atrial fibrillation: why stroke prevention comes first",
        "summary": "An irregular heartbeat can let clots form in the heart. How the risk is judged and how "
                   "anticoagulant medicines reduce it.",
        "references": ["hindricks2021", "lip2010", "ruff2014"],
        "body": """\
Atrial fibrillation (AF) is the most common heart rhythm disorder. The upper chambers of the heart
(the atria) quiver instead of contracting in a coordinated way, so the pulse becomes irregular and
often fast. Some people feel palpitations, breathlessness or tiredness; others notice nothing and
find out at a routine check.

## Why AF raises the risk of stroke

When the atria quiver, blood moves sluggishly in a small pouch called the left atrial appendage,
and clots can form there. If a clot travels to the brain it causes a stroke, and strokes caused by
AF tend to be severe. Preventing them is the first priority of AF care, alongside controlling
symptoms and treating conditions that drive AF, such as high blood pressure, obesity, sleep apnoea
and heavy drinking [@hindricks2021].

## Estimating the risk

Clinicians estimate stroke risk with a simple score called CHA2DS2-VASc [@lip2010]. It adds points
for heart failure, high blood pressure, age 65 to 74 (one point) or 75 and over (two points),
diabetes, previous stroke or transient ischaemic attack (two points), vascular disease, and female
sex. Guidelines recommend anticoagulation for men with a score of 2 or more and women with 3 or
more, and advise considering it at one point lower [@hindricks2021].

## Anticoagulant medicines

Anticoagulants make the blood less likely to clot. Aspirin is not recommended for stroke
prevention in AF: it protects far less and still causes bleeding.

- **Direct oral anticoagulants (DOACs)** such as apixaban, edoxaban, rivaroxaban and dabigatran
  are now preferred for most people. Pooled trial data show they prevent strokes at least as well
  as warfarin, with fewer bleeds into the brain [@ruff2014].
- **Warfarin** remains the choice for people with a mechanical heart valve or moderate to severe
  narrowing of the mitral valve. It needs regular blood tests (INR).

## Living with an anticoagulant

- Take it every day at the same time; missing doses of a DOAC quickly removes its protection.
- Tell every clinician, dentist and pharmacist that you take it, and carry an alert card.
- Avoid anti-inflammatory painkillers unless your clinician advises them.
- Seek urgent help for black or bloody stools, vomiting blood, a severe headache, or any head
  injury.

The fear of bleeding is understandable, but for most people with AF and risk factors the strokes
prevented outweigh the serious bleeds caused. Your clinician should review the balance, including
your kidney function and any bleeding risks, at least once a year.
""",
        "later": {
            "before": "- **Warfarin** remains",
            "insert": """\
- **Left atrial appendage occlusion**, a procedure that closes the pouch where most clots form,
  may be considered for people who cannot take any anticoagulant long term [@hindricks2021].
""",
            "references": [],
            "change_note": "Mention left atrial appendage occlusion for people who cannot take anticoagulants "
                           "(draft, not yet reviewed).",
            "is_major_change": False,
        },
    },
    {
        "slug": "low-back-pain-staying-active",
        "topic": "musculoskeletal-health",
        "path": "published",
        "origin": "ai_assisted",
        "reviewers": ["reviewer2", "reviewer3", "reviewer1"],
        "title": "Low back pain: why staying active helps most",
        "summary": "Most back pain is not caused by serious damage and improves within weeks. What helps, "
                   "what does not, and which symptoms need urgent care.",
        "references": ["foster2018", "qaseem2017", "nice-ng59"],
        "body": """\
Low back pain is one of the most common reasons people see a doctor, and most adults have it at
some point. In nine out of ten cases no single structural cause can be found: the pain comes from
the muscles, joints and ligaments of the back, and it is called *non-specific* low back pain
[@foster2018]. It can be very painful without meaning that anything is damaged.

## What to expect

Most episodes improve a lot within a few weeks, although aches can linger and it is common to have
another episode later. Pain that lasts more than three months is called chronic low back pain; it
is still usually non-specific, and it is treated differently from a new episode.

## What helps

- **Keep moving.** Continue your usual activities as far as the pain allows, and return to work
  early, with adjustments if needed. Bed rest slows recovery.
- **Heat.** A heat wrap or hot-water bottle can ease pain in the first weeks [@qaseem2017].
- **Exercise.** For pain that persists, structured exercise, which can be anything from walking
  programmes to yoga, tai chi or pilates, is recommended as a first step [@qaseem2017]
  [@nice-ng59].
- **Manual therapy and psychological approaches.** Spinal manipulation, massage and cognitive
  behavioural therapy can help as part of a programme that includes exercise [@nice-ng59].
- **Medicines, briefly.** If needed, a non-steroidal anti-inflammatory such as ibuprofen at the
  lowest effective dose for the shortest time, after checking it is safe for you [@qaseem2017].

## What does not help

Paracetamol alone does little for low back pain. Opioids are not recommended for chronic back pain
and carry serious risks of dependence [@nice-ng59]. Routine X-rays and scans rarely change
treatment: they often show age-related changes that are present in people without pain too, and
finding them can cause worry and lead to unnecessary procedures [@foster2018].

## When to seek help urgently

Contact emergency services or your clinician at once if back pain comes with:

- numbness around the genitals or buttocks, new difficulty passing urine or controlling your
  bladder or bowels, or weakness in the legs;
- fever, or a history of cancer, weakened immunity or injecting drug use;
- a significant fall or injury, especially if you have thin bones;
- pain that is constant, severe and worse at night, with weight loss you cannot explain.

These are uncommon, but they can be signs of a condition that needs treatment the same day.

*This article was drafted with the help of an AI writing tool and then checked, edited and
approved by the named board members, as our editorial policy requires.*
""",
    },
    {
        "slug": "type-2-diabetes-reducing-your-risk",
        "topic": "diabetes-and-metabolism",
        "path": "review_due",
        "review_due_reason": "Re-review brought forward: the cited Standards of Care in Diabetes have "
                             "published a new annual edition.",
        "reviewers": ["reviewer1", "reviewer2"],
        "title": "Type 2 diabetes: you can lower your risk",
        "summary": "Raised blood sugar below the diabetes range is common. Lifestyle changes that "
                   "halve the chance of it becoming diabetes.",
        "references": ["ada-standards", "tuomilehto2001", "knowler2002"],
        "body": """\
Type 2 diabetes develops slowly. For years before it is diagnosed, blood sugar is often higher than
normal but below the diabetes range, a stage called prediabetes (in the UK also "non-diabetic
hyperglycaemia"). It is usually found with a blood test for HbA1c, which reflects average blood
sugar over the past two to three months, or a fasting glucose test [@ada-standards].

Prediabetes has no symptoms. It matters because many people with it go on to develop type 2
diabetes, and because the same risk factors raise the risk of heart disease.

## Who is at higher risk

- being over 40, or over 25 for people of South Asian, African or Caribbean family origin;
- a parent, brother or sister with type 2 diabetes;
- carrying extra weight, especially around the waist;
- high blood pressure, or a history of diabetes in pregnancy;
- being physically inactive.

If any of these apply to you, ask whether a blood test is due.

## Lifestyle change works

Two landmark trials showed that structured lifestyle programmes prevent diabetes. In Finland,
people with impaired glucose tolerance who received individual advice on diet and exercise were
58% less likely to develop diabetes over about three years than those who did not
[@tuomilehto2001]. In the United States, the Diabetes Prevention Program found the same 58%
reduction with a lifestyle programme aiming at 7% weight loss and 150 minutes of activity a week;
the medicine metformin reduced the risk by 31% [@knowler2002].

The changes in those programmes were modest and practical:

- **Lose a little weight.** Losing 5 to 7% of body weight, about 5 kg for someone weighing 80 kg,
  makes a real difference.
- **Move for at least 150 minutes a week.** Brisk walking counts. Break up long periods of sitting.
- **Eat more fibre and less refined carbohydrate.** Choose wholegrains, vegetables, pulses and
  fruit; cut back on sugary drinks, white bread and processed snacks.
- **Limit alcohol and stop smoking.**

Many health services offer free group programmes based on this evidence. They tend to work best
when a friend or family member joins in.

## Keep checking

Prediabetes can return to normal, stay the same or progress. A yearly blood test shows which way
things are going. See your clinician sooner if you develop increased thirst, need to pass urine
often, unexplained weight loss, or infections that keep coming back.
""",
    },
    {
        "slug": "sepsis-know-the-warning-signs",
        "topic": "infections",
        "risk_tier": "high",
        "path": "scheduled",
        "schedule_in_days": 5,
        "reviewers": ["reviewer3", "reviewer2"],
        "title": "Sepsis: know the warning signs",
        "summary": "Sepsis is a life-threatening reaction to infection. The signs that should make you seek "
                   "emergency care, and why every hour counts.",
        "references": ["singer2016", "rudd2020", "evans2021"],
        "body": """\
Sepsis happens when the body's response to an infection injures its own organs. It can start from
any infection, most often of the lungs, urinary tract, abdomen or skin. Doctors define it as
life-threatening organ dysfunction caused by a dysregulated response to infection [@singer2016].
Septic shock is the most severe form, in which blood pressure stays dangerously low despite
treatment.

Sepsis is common and serious. Estimates for 2017 counted around 49 million cases and 11 million
sepsis-related deaths worldwide, about one in five of all deaths [@rudd2020].

## Who is most at risk

Anyone can develop sepsis, but the risk is higher in babies and young children, adults over 75,
people with diabetes, cancer, kidney or liver disease, people whose immune system is weakened by
illness or medicines such as chemotherapy or steroids, and people who have recently had surgery
or given birth.

## Warning signs in adults

Seek emergency help if someone with an infection, or who seems unwell without a clear cause, has
any of the following:

- new confusion, slurred speech, or is very hard to wake;
- breathing very fast or struggling to breathe;
- skin that is mottled, bluish or very pale, or a rash that does not fade when a glass is pressed
  on it;
- shivering with a very high or a low temperature, or feeling far more ill than ever before;
- passing no urine for a day.

Trust your instinct. Saying "I think this could be sepsis" helps staff act quickly.

## Warning signs in children

Fast breathing, a rash that does not fade, a fit, being unusually sleepy or floppy, a weak or
high-pitched cry, not feeding, or cold hands and feet with a fever all need urgent assessment.

## Why speed matters

Sepsis is a medical emergency. International guidelines recommend that antibiotics be given as
soon as possible, ideally within one hour, when sepsis is probable or shock is present, together
with fluids and close monitoring [@evans2021]. Early treatment reduces the chance of organ damage
and death.

## After sepsis

Recovery can take months. Tiredness, poor sleep, muscle weakness, low mood and problems with
memory or concentration are common after a stay in hospital. These effects are recognised, and
follow-up and rehabilitation can help, so tell your clinician about them.

Many infections that lead to sepsis can be prevented: keep vaccinations up to date, clean and care
for wounds, and seek advice early when an infection is not getting better.
""",
    },
    {
        "slug": "statins-benefits-and-side-effects",
        "related": ["high-blood-pressure-what-the-numbers-mean"],
        "topic": "cardiovascular-health",
        "path": "in_review",
        "reviewers": ["reviewer2", "reviewer1"],
        "signed": ["reviewer2"],
        "title": "Statins: weighing benefits and side effects",
        "summary": "What statins do, who benefits most, and what the best evidence says about muscle "
                   "aches.",
        "references": ["ctt2010", "ctt2022", "wood2020"],
        "body": """\
Statins lower LDL cholesterol, the "bad" cholesterol that builds up in artery walls. They are among
the most studied medicines in the world, and they reduce heart attacks, strokes and the need for
procedures to open blocked arteries.

## How much do they help?

The benefit depends on how much LDL cholesterol falls and how high the risk was to begin with. A
meta-analysis of 26 randomised trials with about 170,000 participants found that each reduction of
1 mmol/L in LDL cholesterol lowered the yearly rate of major vascular events by about a fifth
[@ctt2010]. The relative benefit was similar across groups of patients, so the people who gain the
most in absolute terms are those at the highest risk: people who have already had a heart attack
or stroke, and people with several risk factors such as diabetes, high blood pressure, smoking or
chronic kidney disease.

Your clinician can estimate your risk of a heart attack or stroke over the next ten years with a
risk calculator, and talk through what a statin would change for you.

## Muscle aches: what the evidence shows

Many people worry about muscle pain. It is common in daily life whether or not someone takes a
statin, which makes it hard to know what the medicine causes.

An analysis of large double-blind trials, in which neither patients nor doctors knew who was
taking the statin, found that muscle symptoms were reported almost as often with placebo. Statins
caused only a small excess of mostly mild symptoms, mainly in the first year, and more than 90% of
the muscle symptoms reported by people taking a statin were not due to the statin [@ctt2022].

In a smaller trial, people who had stopped statins because of side effects took a statin, a
placebo or nothing in random months. Their symptoms were about as bad in the placebo months as in
the statin months [@wood2020]. Expecting side effects can itself cause them.

## Real but rare harms

Severe muscle damage (rhabdomyolysis) is very rare. Statins slightly raise blood sugar and the
chance of a diabetes diagnosis in people already close to the threshold; the cardiovascular benefit
usually outweighs this.

## If you have side effects

Do not simply stop. Talk to your clinician: options include a short break to see whether the
symptoms change, a lower dose, a different statin, or taking it on alternate days. Seek medical
advice promptly for severe unexplained muscle pain or weakness, especially with dark urine.
""",
    },
    {
        "slug": "insomnia-cbt-first",
        "topic": "mental-health",
        "path": "submitted",
        "title": "Insomnia: why talking therapy comes before sleeping pills",
        "summary": "Cognitive behavioural therapy for insomnia helps most people sleep better, and its "
                   "effect lasts longer than that of sleeping pills.",
        "references": ["qaseem2016", "trauer2015"],
        "body": """\
Almost everyone sleeps badly from time to time. Insomnia becomes a disorder when difficulty falling
asleep, staying asleep or waking too early happens at least three nights a week for three months or
more, despite enough opportunity to sleep, and affects how you feel and function during the day.

Long-term insomnia is often kept going by habits and worries that grow up around it: going to bed
early to "catch up", lying awake watching the clock, napping, and dreading the night ahead.

## Cognitive behavioural therapy for insomnia (CBT-I)

CBT-I is a structured programme, usually of four to eight sessions, that targets those habits and
thoughts. It is recommended as the first treatment for chronic insomnia in adults
[@qaseem2016]. It usually includes:

- **Sleep restriction:** at first, spending only the hours in bed that you actually sleep, then
  extending the time as sleep becomes more solid. It is hard for a week or two and very effective.
- **Stimulus control:** using the bed only for sleep and sex, going to bed only when sleepy, and
  getting up if you cannot sleep after about 20 minutes.
- **A fixed wake-up time,** every day, including weekends.
- **Cognitive techniques** to loosen the grip of worries about sleep.
- **Sleep hygiene:** regular routines, caffeine only in the morning, and a dark, quiet, cool
  bedroom. On its own this is not enough for chronic insomnia.

A systematic review of randomised trials found that CBT-I shortened the time taken to fall asleep
and the time spent awake during the night by clinically meaningful amounts, and the gains were
maintained after treatment ended [@trauer2015]. CBT-I is available with a therapist, in groups,
and in digital programmes with good evidence.

## What about sleeping pills?

Sleeping tablets can help for a few nights in a crisis, but the benefit is modest, tolerance
develops, and side effects include daytime drowsiness, falls in older people and dependence.
Guidelines suggest that medicines be considered only when CBT-I alone has not worked, after
discussing the benefits and harms, and for the shortest possible time [@qaseem2016].
Over-the-counter sedating antihistamines are not recommended for long-term use.

## When to see a clinician

See your clinician if insomnia is affecting your daily life, if you snore loudly or stop breathing
in your sleep, have restless legs, or if poor sleep comes with low mood or anxiety. Insomnia can
be a sign of another condition that needs treatment in its own right.
""",
    },
    {
        "slug": "physical-activity-how-much-is-enough",
        "topic": "healthy-living",
        "path": "approved",
        "reviewers": ["reviewer1", "reviewer2"],
        "changes_requested": {
            "by": "reviewer2",
            "before": "## Any amount counts",
            "comments": "Accurate overall. Please add a short paragraph on safety for people with heart "
                        "disease or new symptoms: readers starting from inactivity will ask.",
            "paragraph": """\
## Starting safely

Most people can become more active without a medical check. If you have heart disease, have had
chest pain, fainting or breathlessness with exertion, or have a long-term condition, talk to your
clinician first about what is right for you, and build up gradually. Stop and seek advice if
activity brings on chest pain, unusual breathlessness, dizziness or palpitations.

""",
            "change_note": "Added advice on starting safely, as the reviewer asked.",
        },
        "title": "Physical activity: how much is enough?",
        "summary": "The weekly amounts of activity recommended for adults, and why any movement is better "
                   "than none.",
        "references": ["bull2020", "ekelund2019"],
        "body": """\
Regular physical activity lowers the risk of heart disease, stroke, type 2 diabetes, several
cancers, depression and dementia, and helps people stay independent as they grow older. You do not
need a gym or special equipment to get most of these benefits.

## The recommended amounts for adults

The World Health Organization recommends that adults, including those living with long-term
conditions or disability, do each week [@bull2020]:

- at least **150 to 300 minutes of moderate-intensity activity**, such as brisk walking, cycling on
  the flat or dancing; or
- **75 to 150 minutes of vigorous activity**, such as running, swimming lengths or fast cycling;
  or a mix of the two;
- **muscle-strengthening activities on two or more days**, such as carrying shopping, working with
  resistance bands, climbing stairs or lifting weights.

Older adults should also include activities that improve balance, to reduce falls. Moderate
activity makes you breathe faster and feel warmer; you can still talk but not sing. During
vigorous activity you can only say a few words before pausing for breath.

## Any amount counts

The guidance dropped an older rule that activity only counted in bouts of ten minutes or more.
Short walks and climbing stairs add up. The largest gains come from moving from no activity to a
little: a meta-analysis of studies that measured activity with wearable devices found that the risk
of death fell steeply with the first increases in daily activity and kept falling, more slowly, at
higher amounts [@ekelund2019]. The same analysis linked long daily sitting time with higher risk.

## Sit less

Break up long periods of sitting: stand during phone calls, walk to a colleague rather than
messaging, and get up every half hour when working at a desk.

## Making it stick

- Choose something you enjoy, and put it in your diary like any other appointment.
- Start small and build up by a few minutes a week.
- Activity with others, such as walking groups, clubs or a regular game, is easier to keep up.
- Count what you already do: active travel and heavy housework or gardening count towards the
  total.
""",
    },
    {
        "slug": "caring-for-someone-with-dementia",
        "topic": "mental-health",
        "path": "draft",
        "title": "Caring for someone with dementia at home",
        "summary": "Practical ways to support a person living with dementia, and to look after yourself "
                   "as a carer.",
        "references": ["livingston2020", "nice-ng97"],
        "body": """\
Dementia is a group of conditions in which memory, thinking and the ability to manage everyday life
decline over time. Alzheimer's disease is the most common cause; vascular dementia and dementia with
Lewy bodies are others. Most people with dementia live at home, supported by family and friends.

## Keeping life meaningful

A diagnosis of dementia does not end a person's ability to enjoy life, make choices or take part.
Guidance for health and care services recommends offering activities tailored to the person's
interests to promote wellbeing, and involving them in decisions for as long as possible
[@nice-ng97].

- Keep routines predictable: meals, walks and bedtimes at similar times each day.
- Break tasks into small steps and allow time. Offer simple choices rather than open questions.
- Use what still works: long-held skills, music and familiar places often last longest.
- Keep the person active and in contact with others; loneliness and inactivity make things worse.

## Communication

Speak calmly, face the person, and use short sentences. Correcting mistaken memories usually causes
distress; responding to the feeling behind the words works better. Check that hearing aids and
glasses are worn and working: treating hearing loss helps communication and may matter for
thinking too [@livingston2020].

## Changes in behaviour

Agitation, restlessness or aggression often have a cause the person cannot express: pain, constipation,
an infection, hunger, tiredness, noise or boredom. Look for these first. Sedating medicines,
especially antipsychotics, have serious risks in dementia and should be used only when other
approaches have failed and there is a risk of harm [@nice-ng97].

## Safety at home

Good lighting, removing trip hazards, labelled cupboards and a simple clock showing the day and
date all help. Consider who manages money and medicines, and plan ahead while the person can still
take part: lasting power of attorney and advance care planning spare difficult decisions later.

## Looking after yourself

Caring can be rewarding and also exhausting. Carers are entitled to an assessment of their own
needs, and to training and support such as carers' groups and respite breaks [@nice-ng97]. Ask
for help early, not at crisis point.

Contact the person's clinician promptly if they become suddenly more confused over hours or days:
this is often caused by an infection or a medicine, and it can be treated.
""",
        "variants": [
            {"audience": "caregiver", "summary": "A short checklist for family carers.",
             "body": """\
- Keep a daily routine and a calm, well-lit home.
- Speak simply and respond to feelings rather than correcting facts.
- Look for pain, infection or constipation when behaviour changes [@nice-ng97].
- Make sure hearing aids and glasses are used [@livingston2020].
- Ask for a carer's assessment, and take breaks before you reach breaking point.
- Sudden worse confusion needs a clinician the same day.
"""},
        ],
    },
    {
        "slug": "antidepressants-the-first-weeks",
        "topic": "mental-health",
        "path": "withdrawn",
        "withdraw_reason": "Withdrawn for revision: the advice on stopping antidepressants must be "
                           "brought in line with current guidance on gradual tapering.",
        "reviewers": ["reviewer2", "reviewer1"],
        "title": "Starting an antidepressant: the first weeks",
        "summary": "What to expect when you start an antidepressant, how long it takes to work, and when "
                   "to talk to your clinician.",
        "references": ["cipriani2018", "nice-ng222"],
        "body": """\
Antidepressants are one of the main treatments for moderate and severe depression, often together
with talking therapy. For less severe depression, guided self-help, talking therapies or group
exercise are usually offered first [@nice-ng222].

## Do they work?

A large network meta-analysis of randomised trials compared 21 antidepressants with placebo in
adults with major depression. Every one of them was more effective than placebo, though they
differed in how well they were tolerated [@cipriani2018]. No antidepressant works for everyone, and
it can take more than one try to find the right medicine and dose.

## The first few weeks

Antidepressants do not work straight away. Some people notice better sleep or energy within one or
two weeks, but it usually takes four to six weeks to judge the effect on mood. Side effects, on the
other hand, are most noticeable at the start and often settle within a couple of weeks. Common ones
include nausea, headache, sleep changes, feeling jittery, and sexual side effects.

Your clinician should see you again within a few weeks of starting, and sooner if you are under 25
or have had thoughts of suicide, because some people feel more agitated at first.

## Getting help urgently

If you have thoughts of harming yourself or ending your life, or feel much worse or very restless
after starting, contact your clinician the same day, or emergency services or a crisis line if you
are at immediate risk. You do not have to wait for your next appointment.

## How long to take them

When an antidepressant helps, continuing it for at least six months after you feel better lowers
the chance of depression coming back. Decide together with your clinician when to stop.

## Stopping

Do not stop suddenly. Stopping can cause withdrawal symptoms such as dizziness, anxiety, sleep
problems and "electric shock" sensations. Your clinician will reduce the dose gradually, usually
over about four weeks.

## Alcohol and other medicines

Alcohol can worsen low mood and add to drowsiness. Some antidepressants interact with other
medicines, including certain painkillers, migraine treatments and St John's wort, so check with a
pharmacist before taking anything new.
""",
    },
    {
        "slug": "symptom-checker-apps",
        "topic": "digital-health",
        "path": "archived",
        "archive_reason": "Archived: the comparison data it relies on is a decade old and the topic will be "
                          "covered by a new article.",
        "reviewers": ["reviewer1", "reviewer2"],
        "title": "Online symptom checkers: useful, with limits",
        "summary": "Symptom-checker apps and websites can help you decide where to seek care, but they often "
                   "get the diagnosis wrong.",
        "references": ["semigran2015", "eu-mdr-2017"],
        "body": """\
Symptom checkers are websites and apps that ask questions about your symptoms and then suggest
possible causes and where to seek care: self-care at home, a pharmacist, a routine appointment, or
urgent care. They are easy to use at any hour, and many people try one before calling a clinician.

## How accurate are they?

Evidence on accuracy is limited, and tools change quickly. An audit that tested 23 symptom checkers
with 45 standardised patient cases found that the correct diagnosis was listed first in about a
third of cases, and within the top 20 suggestions in a little over half [@semigran2015]. Advice on where to
seek care was better, correct in more than half of cases, and tools tended to be cautious, sending
people to care when self-care would have done.

## Using them sensibly

- Treat the result as a prompt, not a diagnosis. A list of possible conditions is not the same as an
  examination by someone who can see and hear you.
- Err on the side of caution: if the tool says self-care but you feel very unwell or worse than
  before, seek care anyway.
- Check who makes the tool and whether it is regulated. In the European Union, software intended to
  diagnose or guide treatment is a medical device and must meet the requirements of the Medical
  Device Regulation [@eu-mdr-2017].
- Be careful with personal data: read how the app stores and shares what you enter.

## When not to use one

Do not use a symptom checker for emergencies. Call emergency services straight away for chest pain,
signs of a stroke such as a drooping face, arm weakness or slurred speech, severe difficulty
breathing, heavy bleeding, a seizure, or if someone collapses or cannot be woken.

## Sharing the result

If you used a tool before your appointment, tell your clinician what it suggested and what worried
you. It can be a useful starting point for the conversation, and the clinician can explain why
they agree or disagree with it.
""",
    },
]

ARTICLES.append({
    "slug": "vitamin-d-and-falls",
    "topic": "musculoskeletal-health",
    "path": "published",
    "reviewers": ["reviewer1", "reviewer2"],
    # After publication a Retraction Watch notice retracts the trial it relies on: the retraction
    # service marks the reference and flags the article for re-review (state review_due).
    "retraction": {"reference": "demo-vitd-trial2008", "nature": "Retraction", "date": "2025-03-14",
                   "record_id": "demo-1", "reason": "Concerns about data (fictional, demo data)"},
    "title": "Vitamin D and falls in older people",
    "summary": "Whether vitamin D tablets prevent falls, and what else lowers the risk of a fall.",
    "references": ["demo-vitd-trial2008", "demo-falls-cohort2011"],
    "body": """\
*Demo article: the studies it cites are fictional, so that the demo can show a retracted
reference. It is not health advice.*

Falls are common in later life and can cause fractures. One trial reported fewer falls in women over
70 who took vitamin D tablets [@demo-vitd-trial2008]. A cohort study found that falls at home were
most often linked to poor balance, some medicines and hazards such as loose rugs
[@demo-falls-cohort2011].

## What lowers the risk of a fall

- exercise that trains strength and balance, continued for months;
- a review of medicines that cause dizziness or drowsiness;
- good lighting, grab rails and removing trip hazards at home;
- an eye test every one to two years.

Ask your clinician whether vitamin D is right for you.
""",
})

WORKING_STATES = ["draft", "submitted", "in_review", "approved", "scheduled", "published", "review_due",
                  "withdrawn", "archived"]
