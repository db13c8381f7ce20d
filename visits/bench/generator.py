"""A generated agency for `make bench`: at scale 1.0, 10,000 patients, 150 nurses, their coordinators, one IVIG
order each, six months of documented history (about 300,000 visits, each with its check-in, checklist, vials,
rate changes, vital signs, signature, reminders and audit entries) and the coming three weeks' schedule.

Rows are written with large ``bulk_create`` batches, a chunk of patients at a time, so memory stays flat and the
full scale takes minutes. It follows the rules the services enforce (every visit's nurse is on the patient's care
team, documented visits have vitals at every phase, lots in date), because a page measured on data it would never
see measures nothing. Deterministic: the same scale and day give the same agency.

Every patient's IVIG cycle is laid on a 28-day grid so that patient ``i`` is on day ``i % 28`` of a cycle today:
at any scale some patients are infusing now (the chart "in progress") and some nurses have a day to show.
"""

import random
from collections import Counter
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from decimal import Decimal

from django.apps import apps
from django.contrib.auth import get_user_model
from django.contrib.auth.hashers import make_password
from django.contrib.contenttypes.models import ContentType
from django.db import connection, models, transaction
from django.utils import timezone

from infusion_site import roles
from patients.models import CareTeamMember, Diagnosis, LabResult, Patient, PriorAuthorization, WeightMeasurement
from visits.chart.infusion.services import plan_snapshot
from visits.models import (
    Competency,
    FollowUp,
    Indication,
    InfusionRecord,
    Notification,
    NurseProfile,
    PreInfusionChecklist,
    PremedicationGiven,
    Product,
    RateChange,
    Reaction,
    TherapyOrder,
    VialUsed,
    Visit,
    VisitEvent,
    VisitSignature,
    VisitVerification,
    VitalSigns,
    WorkingHours,
)
from visits.orders.services import order_calculate, to_mg

# The agency of issue 15 at scale 1.0.
PATIENTS = 10_000
NURSES = 150
COORDINATORS = 8
TEAMS = 10
HISTORY_DAYS = 182
HORIZON_DAYS = 21
CYCLE_DAYS = 28
CHUNK = 250  # patients written per transaction
BATCH = 5_000  # rows per INSERT

PRODUCTS = ("Octagam 10%", "Gamunex-C", "Privigen")
DAYS_PER_CYCLE = (4, 5, 5)  # 2 g/kg split over 4 or 5 days (DESIGN §3): about 30 visits a patient in 6 months
WEIGHTS_KG = (52, 60, 68, 76, 84, 92)
ZONES = ("America/New_York", "America/New_York", "America/Chicago", "America/Denver")
PREMEDICATIONS = "Acetaminophen 650 mg PO; diphenhydramine 25 mg PO"
PREFIX = "bench-"  # every generated username starts with it
TODAY_OFFSETS_MIN = (-150, -75, 0, 75, 150)  # today's visits, by patient: two infusing now, three still ahead


@dataclass(frozen=True)
class Size:
    patients: int
    nurses: int
    coordinators: int
    teams: int

    @classmethod
    def at(cls, scale: float) -> "Size":
        nurses = max(2, round(NURSES * scale))
        return cls(
            patients=max(4, round(PATIENTS * scale)),
            nurses=nurses,
            coordinators=max(1, round(COORDINATORS * scale)),
            teams=min(TEAMS, nurses),
        )


def team_model():
    """patients.Team when the teams are there (issue 15 item 1), else None: the generator runs either way."""
    try:
        return apps.get_model("patients", "Team")
    except LookupError:
        return None


class Agency:
    def __init__(self, *, scale: float, now: datetime | None = None, seed: int = 2026, say=print):
        self.size = Size.at(scale)
        self.now = now or timezone.now()
        self.today = timezone.localdate(self.now)
        self.random = random.Random(seed)
        self.say = say
        self.counts: Counter = Counter()
        self.calculations: dict = {}
        self.password = make_password(None)
        self.groups = roles.ensure_groups()
        self.visit_type = ContentType.objects.get_for_model(Visit)
        self.products = {product.name: product for product in Product.objects.filter(name__in=PRODUCTS)}
        missing = set(PRODUCTS) - set(self.products)
        if missing:
            raise RuntimeError(f"The product catalog migration did not run: {sorted(missing)} missing")

    # --- writing -------------------------------------------------------------------------------------------

    def insert(self, model, rows: list) -> list:
        """Write ``rows``; their primary keys are set afterwards (other rows point at them)."""
        if rows:
            model.objects.bulk_create(rows, batch_size=BATCH)
            self.counts[model._meta.label] += len(rows)
        return rows

    def copy(self, model, rows: list) -> None:
        """Write ``rows`` that nothing points at: with COPY on PostgreSQL (several times faster than INSERT, and
        most of the agency's rows are these), with ``bulk_create`` elsewhere."""
        if not rows:
            return
        if connection.vendor != "postgresql":
            self.insert(model, rows)
            return
        from psycopg.types.json import Jsonb

        fields = [field for field in model._meta.concrete_fields if not field.primary_key]
        stamped = [f.attname for f in fields if getattr(f, "auto_now", False) or getattr(f, "auto_now_add", False)]
        json = {f.attname for f in fields if isinstance(f, models.JSONField)}
        names = [field.attname for field in fields]
        quote = connection.ops.quote_name
        statement = f"COPY {quote(model._meta.db_table)} ({', '.join(quote(f.column) for f in fields)}) FROM STDIN"
        with connection.cursor() as cursor, cursor.cursor.copy(statement) as copy:
            for row in rows:
                for name in stamped:
                    if getattr(row, name) is None:
                        setattr(row, name, self.now)
                values = [getattr(row, name) for name in names]
                copy.write_row(
                    [Jsonb(v) if name in json and v is not None else v for name, v in zip(names, values, strict=True)]
                )
        self.counts[model._meta.label] += len(rows)

    def users(self, names: list[tuple[str, str, str]], role: str) -> list:
        User = get_user_model()
        users = self.insert(
            User,
            [User(username=u, first_name=f, last_name=last, password=self.password) for u, f, last in names],
        )
        through = User.groups.through
        self.insert(through, [through(user_id=user.pk, group_id=self.groups[role].pk) for user in users])
        return users

    # --- staff ----------------------------------------------------------------------------------------------

    def staff(self) -> None:
        n = self.size
        self.nurses = self.users(
            [(f"{PREFIX}nurse{i:03d}", f"Nurse{i}", "Bench") for i in range(1, n.nurses + 1)], roles.NURSE
        )
        self.coordinators = self.users(
            [(f"{PREFIX}coordinator{i}", f"Coordinator{i}", "Bench") for i in range(1, n.coordinators + 1)],
            roles.COORDINATOR,
        )
        self.insert(
            NurseProfile,
            [
                NurseProfile(nurse=nurse, competencies=[Competency.IVIG, Competency.SCIG], max_visits_per_day=12)
                for nurse in self.nurses
            ],
        )
        self.insert(
            WorkingHours,
            [
                WorkingHours(nurse=nurse, weekday=day, starts=time(7), ends=time(19))
                for nurse in self.nurses
                for day in range(6)
            ],
        )
        self.teams = self.make_teams()

    def make_teams(self) -> list:
        """Ten branches; nurse ``i`` and coordinator ``i`` belong to team ``i % teams``."""
        Team = team_model()
        if Team is None:
            return []
        teams = self.insert(Team, [Team(name=f"Branch {i + 1}") for i in range(self.size.teams)])
        members = next((f for f in Team._meta.many_to_many if f.name in ("members", "nurses", "staff")), None)
        if members is not None:
            through = members.remote_field.through
            team_column, user_column = members.m2m_field_name(), members.m2m_reverse_field_name()
            staff = [*self.nurses, *self.coordinators]
            self.insert(
                through,
                [
                    through(**{f"{team_column}_id": teams[i % len(teams)].pk, f"{user_column}_id": user.pk})
                    for i, user in enumerate(staff)
                ],
            )
        return teams

    # --- patients -------------------------------------------------------------------------------------------

    def calculation(self, *, order: TherapyOrder, weight_kg: int):
        """Dose, volume, vials and plans by the product's own rules, once per product, days and weight."""
        key = (order.product_id, order.days_per_cycle, weight_kg)
        if key not in self.calculations:
            weight = WeightMeasurement(patient=order.patient, weight_kg=Decimal(weight_kg), measured_on=self.today)
            calc = order_calculate(order=order, weight=weight)
            snapshots = {}
            for first, plan in ((True, calc.first_plan), (False, calc.later_plan)):
                visit = Visit(
                    order=order,
                    patient=order.patient,
                    dose_mg=calc.dose_per_infusion_mg,
                    volume_ml=calc.volume_ml,
                    is_first_infusion=first,
                )
                order.calculated_from_weight_kg = Decimal(weight_kg)
                order.dosing_weight_kg = calc.dosing_weight.kg
                snapshots[first] = plan_snapshot(visit, plan)
            self.calculations[key] = (calc, snapshots)
        return self.calculations[key]

    def patients(self) -> None:
        for first in range(0, self.size.patients, CHUNK):
            with transaction.atomic():
                self.patient_chunk(range(first, min(first + CHUNK, self.size.patients)))
            self.say(f"  {min(first + CHUNK, self.size.patients):,} of {self.size.patients:,} patients")

    def patient_chunk(self, numbers: range) -> None:
        today = self.today
        portal = [i for i in numbers if i % 10 < 7]  # seven in ten patients use the portal
        users = dict(
            zip(
                portal,
                self.users([(f"{PREFIX}patient{i:05d}", f"Pat{i}", f"Bench{i}") for i in portal], roles.PATIENT),
                strict=True,
            )
        )
        team_field = "team" if self.teams and "team" in {f.name for f in Patient._meta.fields} else None
        patients = []
        for i in numbers:
            patient = Patient(
                mrn=f"B{i:07d}",
                first_name=f"Pat{i}",
                last_name=f"Bench{i}",
                date_of_birth=today.replace(year=today.year - 30 - i % 45, day=1),
                sex="F" if i % 3 else "M",
                phone=f"+1555{i:07d}",
                email=f"patient{i}@example.org",
                address_line1=f"{i} Bench Street",
                city="Springfield",
                state="IL",
                postal_code="62701",
                latitude=Decimal("39.781721") + Decimal(i % 100) / 1000,
                longitude=Decimal("-89.650148") - Decimal(i % 70) / 1000,
                time_zone=ZONES[i % len(ZONES)],
                height_cm=Decimal(150 + i % 40),
                no_known_allergies=True,
                iga_status=Patient.IgAStatus.NORMAL,
                anti_iga_antibodies=Patient.AntiIgA.ABSENT,
                renal_risk=i % 9 == 0,
                prescriber_name="Dr. Bench",
                user=users.get(i),
            )
            if team_field:
                setattr(patient, team_field, self.teams[self.primary_nurse(i) % len(self.teams)])
            patients.append(patient)
        self.insert(Patient, patients)
        by_number = dict(zip(numbers, patients, strict=True))
        diagnoses = self.insert(
            Diagnosis,
            [
                Diagnosis(patient=p, icd10_code="M33.10", description="Dermatomyositis", is_primary=True)
                for p in patients
            ],
        )
        weights = {i: WEIGHTS_KG[i % len(WEIGHTS_KG)] for i in numbers}
        self.insert(
            WeightMeasurement,
            [
                WeightMeasurement(patient=by_number[i], measured_on=today - timedelta(days=20 + i % 30), weight_kg=w)
                for i, w in weights.items()
            ],
        )
        self.insert(
            LabResult,
            [
                LabResult(patient=p, collected_on=today - timedelta(days=10 + n % 40), value=Decimal("0.9"))
                for n, p in enumerate(patients)
            ],
        )
        self.insert(
            PriorAuthorization,
            [
                PriorAuthorization(
                    patient=by_number[i],
                    payer="Bench Health",
                    number=f"PA{i:07d}",
                    therapy="IVIG 2 g/kg q4w",
                    valid_from=today - timedelta(days=HISTORY_DAYS + 30),
                    # One in twenty runs out within two weeks: the alert queue has renewals to show.
                    valid_to=today + timedelta(days=10 if i % 20 == 0 else 200),
                    visits_authorized=80,
                )
                for i in numbers
            ],
        )
        self.insert(
            CareTeamMember,
            [
                CareTeamMember(patient=by_number[i], nurse=self.nurses[nurse])
                for i in numbers
                for nurse in sorted({self.primary_nurse(i), self.backup_nurse(i)})
            ],
        )
        orders = []
        for i, diagnosis in zip(numbers, diagnoses, strict=True):
            orders.append(
                TherapyOrder(
                    patient=by_number[i],
                    product=self.products[PRODUCTS[i % len(PRODUCTS)]],
                    diagnosis=diagnosis,
                    indication=Indication.DERMATOMYOSITIS,
                    dose_rule=TherapyOrder.DoseRule.G_PER_KG,
                    dose_amount=Decimal("2"),
                    regimen=TherapyOrder.Regimen.CYCLE,
                    days_per_cycle=DAYS_PER_CYCLE[i % len(DAYS_PER_CYCLE)],
                    interval_weeks=CYCLE_DAYS // 7,
                    end_date=today + timedelta(days=365),
                    premedications=PREMEDICATIONS,
                    prescriber="Dr. Bench",
                    start_date=self.order_start(i),
                    preferred_start_time=time(8 + i % 6, 30 * (i % 2)),
                    created_by=self.coordinators[i % len(self.coordinators)],
                )
            )
        for i, order in zip(numbers, orders, strict=True):
            calc, _ = self.calculation(order=order, weight_kg=weights[i])
            order.dosing_weight_kg = calc.dosing_weight.kg
            order.calculated_from_weight_kg = Decimal(weights[i])
            order.dose_per_cycle_mg = to_mg(calc.dose_per_cycle)
        self.insert(TherapyOrder, orders)
        self.visits_of(list(zip(numbers, orders, strict=True)), weights)

    def primary_nurse(self, i: int) -> int:
        return i % self.size.nurses

    def backup_nurse(self, i: int) -> int:
        return (i + 1) % self.size.nurses

    def order_start(self, i: int):
        """Far enough back to cover the history, on the grid that puts patient ``i`` on cycle day ``i % 28``."""
        return self.today - timedelta(days=CYCLE_DAYS * 7 + i % CYCLE_DAYS)

    # --- visits ---------------------------------------------------------------------------------------------

    def visits_of(self, orders: list, weights: dict) -> None:
        rnd, now, today = self.random, self.now, self.today
        first_day, last_day = today - timedelta(days=HISTORY_DAYS), today + timedelta(days=HORIZON_DAYS)
        visits, plans = [], {}
        for i, order in orders:
            calc, snapshots = self.calculation(order=order, weight_kg=weights[i])
            zone = order.patient.zone
            cycle = 0
            while True:
                cycle_start = order.start_date + timedelta(days=cycle * CYCLE_DAYS)
                if cycle_start > last_day:
                    break
                cycle += 1
                for day_number in range(1, order.days_per_cycle + 1):
                    day = cycle_start + timedelta(days=day_number - 1)
                    if not first_day <= day <= last_day:
                        continue
                    first = not visits or visits[-1].order is not order
                    first = first and day == max(first_day, order.start_date)
                    if day == today:
                        start = now + timedelta(minutes=TODAY_OFFSETS_MIN[i % len(TODAY_OFFSETS_MIN)])
                    else:
                        start = datetime.combine(day, order.preferred_start_time, tzinfo=zone)
                    status, reason = self.status_of(day, start)
                    backup = rnd.random() < 0.1
                    nurse = self.nurses[self.backup_nurse(i) if backup else self.primary_nurse(i)]
                    if status == Visit.Status.SCHEDULED and rnd.random() < 0.03:
                        nurse = None  # the coordinator has yet to staff it
                    plan = calc.first_plan if first else calc.later_plan
                    visit = Visit(
                        patient=order.patient,
                        order=order,
                        cycle_number=cycle,
                        day_number=day_number,
                        nurse=nurse,
                        planned_start=start,
                        planned_minutes=calc.first_visit_minutes if first else calc.later_visit_minutes,
                        infusion_minutes=plan.total_infusion_minutes,
                        dose_mg=calc.dose_per_infusion_mg,
                        volume_ml=calc.volume_ml,
                        is_first_infusion=first,
                        status=status,
                        status_reason=reason,
                    )
                    visits.append(visit)
                    plans[id(visit)] = (plan, snapshots[first], calc)
        self.insert(Visit, visits)
        self.events(visits)
        charted = [v for v in visits if v.status in CHARTED]
        self.charts(charted, plans)
        self.notifications(visits)
        self.follow_ups(charted)
        self.audit(charted)

    def status_of(self, day, start) -> tuple[str, str]:
        if start >= self.now:
            return Visit.Status.SCHEDULED, ""
        if day == self.today:
            return Visit.Status.INFUSING, ""
        draw = self.random.random()
        if draw < 0.02:
            return Visit.Status.CANCELLED, "Patient in hospital"
        if draw < 0.03:
            return Visit.Status.MISSED, "Nobody home"
        if draw < 0.25 and (self.today - day).days <= 2:
            return Visit.Status.COMPLETED, ""  # infused and checked out, not yet signed
        return Visit.Status.SIGNED, ""

    def events(self, visits: list) -> None:
        rows = []
        for visit in visits:
            created = datetime.combine(visit.order.start_date - timedelta(days=1), time(9), tzinfo=UTC)
            by = visit.order.created_by
            rows.append(VisitEvent(visit=visit, kind=VisitEvent.Kind.CREATED, by=by, at=created))
            if visit.status == Visit.Status.CANCELLED:
                rows.append(
                    VisitEvent(
                        visit=visit,
                        kind=VisitEvent.Kind.CANCELLED,
                        by=by,
                        at=visit.planned_start,
                        detail=visit.status_reason,
                    )
                )
        self.copy(VisitEvent, rows)

    def charts(self, visits: list, plans: dict) -> None:
        """Check-in, checklist, premedications, vials, the infusion with its rates and vitals, check-out, signature."""
        rows: dict = {model: [] for model in CHART_MODELS}
        for visit in visits:
            plan, snapshot, calc = plans[id(visit)]
            nurse = visit.nurse
            arrived = visit.planned_start + timedelta(minutes=5)
            started = arrived + timedelta(minutes=25)
            in_progress = visit.status == Visit.Status.INFUSING
            ended = started + timedelta(minutes=plan.total_infusion_minutes)
            last = self.now if in_progress else ended
            verification = VisitVerification(
                visit=visit,
                nurse=nurse,
                service="IVIG infusion",
                checked_in_at=arrived,
                check_in_latitude=visit.patient.latitude,
                check_in_longitude=visit.patient.longitude,
                check_in_accuracy_m=12,
                check_in_distance_m=8,
                check_in_verified=True,
                version=1,
                updated_by=nurse,
            )
            rows[VisitVerification].append(verification)
            rows[PreInfusionChecklist].append(
                PreInfusionChecklist(
                    visit=visit,
                    identifiers_confirmed=True,
                    kit_epinephrine=True,
                    kit_diphenhydramine=True,
                    kit_saline=True,
                    kit_expires_on=self.today + timedelta(days=200),
                    no_fever_or_infection=True,
                    premedications_given=True,
                    completed_at=arrived + timedelta(minutes=15),
                    version=1,
                    updated_by=nurse,
                )
            )
            for drug, dose in (("Acetaminophen", "650 mg"), ("Diphenhydramine", "25 mg")):
                rows[PremedicationGiven].append(
                    PremedicationGiven(
                        visit=visit, drug=drug, dose=dose, given_at=arrived + timedelta(minutes=10), recorded_by=nurse
                    )
                )
            for index, (size, count) in enumerate(sorted(calc.vials.counts.items())):
                size_mg = int(Decimal(size) * (1000 if calc.vial_unit == "g" else 1))
                for copy in range(count):
                    rows[VialUsed].append(
                        VialUsed(
                            visit=visit,
                            product=visit.order.product,
                            lot_number=f"{visit.order.product.name[:3].upper()}{visit.planned_start:%y%m}{index:02d}",
                            expires_on=visit.planned_start.date() + timedelta(days=300),
                            size_mg=size_mg,
                            recorded_by=nurse,
                            recorded_at=arrived + timedelta(minutes=20, seconds=copy),
                        )
                    )
            vitals = rows[VitalSigns]
            vitals.append(self.vital(visit, started - timedelta(minutes=3), VitalSigns.Phase.BASELINE))
            rows[InfusionRecord].append(
                InfusionRecord(
                    visit=visit,
                    started_at=started,
                    ended_at=None if in_progress else ended,
                    volume_infused_ml=None if in_progress else visit.volume_ml,
                    plan_snapshot=snapshot,
                    version=1,
                    updated_by=nurse,
                )
            )
            for step in plan.steps:
                at = started + timedelta(minutes=step.offset_min)
                if at > last:
                    break
                if step.number > 1:
                    phase = VitalSigns.Phase.MAXIMUM if step.at_maximum else VitalSigns.Phase.TITRATION
                    vitals.append(self.vital(visit, at - timedelta(minutes=2), phase))
                kind = RateChange.Kind.START if step.number == 1 else RateChange.Kind.INCREASE
                rows[RateChange].append(
                    RateChange(visit=visit, at=at, kind=kind, rate_ml_per_hr=step.ml_per_hr, recorded_by=nurse)
                )
            if self.random.random() < 0.02:
                onset = started + timedelta(minutes=40)
                if onset < last:
                    vitals.append(
                        self.vital(
                            visit,
                            onset,
                            VitalSigns.Phase.TITRATION,
                            temperature="38.2",
                            flags=["Temperature 38.2 °C: 38.0 °C or more"],
                        )
                    )
                    rows[Reaction].append(
                        Reaction(
                            visit=visit,
                            onset_at=onset,
                            symptoms=["headache", "chills"],
                            grade=1,
                            action=Reaction.Action.PREVIOUS_RATE,
                            outcome="Resolved within 20 minutes.",
                            recorded_by=nurse,
                            recorded_at=onset + timedelta(minutes=5),
                        )
                    )
            if in_progress:
                continue
            rows[RateChange].append(
                RateChange(visit=visit, at=ended, kind=RateChange.Kind.STOP, rate_ml_per_hr=0, recorded_by=nurse)
            )
            for minutes, phase in ((0, "end"), (30, "post_30"), (60, "post_60")):
                vitals.append(self.vital(visit, ended + timedelta(minutes=minutes), phase))
            verification.checked_out_at = ended + timedelta(minutes=62)
            verification.check_out_latitude = visit.patient.latitude
            verification.check_out_longitude = visit.patient.longitude
            verification.check_out_distance_m, verification.check_out_verified = 8, True
            if visit.status == Visit.Status.SIGNED:
                rows[VisitSignature].append(
                    VisitSignature(
                        visit=visit,
                        note="Tolerated well. Vitals stable throughout.",
                        signed_by=nurse,
                        signed_at=ended + timedelta(minutes=65),
                    )
                )
        for model in CHART_MODELS:
            self.copy(model, rows[model])

    def vital(self, visit, at, phase, *, temperature=None, flags=()) -> VitalSigns:
        rnd = self.random
        return VitalSigns(
            visit=visit,
            taken_at=at,
            phase=phase,
            temperature_c=Decimal(temperature or f"36.{rnd.randint(4, 9)}"),
            pulse=rnd.randint(64, 88),
            systolic=rnd.randint(112, 136),
            diastolic=rnd.randint(70, 84),
            respiratory_rate=16,
            spo2=97,
            pain=0,
            flags=list(flags),
            recorded_by=visit.nurse,
            recorded_at=at,
        )

    def notifications(self, visits: list) -> None:
        """The day-before reminder of every visit of a portal user; one in a hundred could not be delivered."""
        rows = []
        for visit in visits:
            user_id = visit.patient.user_id
            due = visit.planned_start - timedelta(hours=24)
            if user_id is None or due > self.now:
                continue
            failed = self.random.random() < 0.01
            rows.append(
                Notification(
                    recipient_id=user_id,
                    channel=Notification.Channel.EMAIL,
                    kind=Notification.Kind.VISIT_REMINDER,
                    key=f"reminder:{visit.pk}:{int(visit.planned_start.timestamp())}:24h:email",
                    about_type=self.visit_type,
                    about_id=visit.pk,
                    subject="Reminder: home nursing visit",
                    body="Your home nursing visit is tomorrow.",
                    url="/portal/",
                    address=f"patient{user_id}@example.org",
                    due_at=due,
                    expires_at=visit.planned_start,
                    next_attempt_at=due,
                    attempts=8 if failed else 1,
                    sent_at=None if failed else due + timedelta(seconds=40),
                    failed_at=due + timedelta(hours=3) if failed else None,
                    last_error="Mail server refused the address" if failed else "",
                    created_at=due,
                )
            )
        self.copy(Notification, rows)

    def follow_ups(self, visits: list) -> None:
        """The questions after the last day of each IVIG cycle, answered (nothing to report) once due."""
        rows = []
        for visit in visits:
            if visit.day_number != visit.order.days_per_cycle:
                continue
            for window, after in (
                (FollowUp.Window.EARLY, timedelta(hours=48)),
                (FollowUp.Window.LATE, timedelta(days=9)),
            ):
                due = visit.planned_start + after
                answered = due + timedelta(hours=2) if due + timedelta(hours=2) < self.now else None
                rows.append(
                    FollowUp(
                        visit=visit,
                        window=window,
                        due_at=due,
                        answered_at=answered,
                        answers={"headache": False} if answered else {},
                        positive=False if answered else None,
                    )
                )
        self.copy(FollowUp, rows)

    def audit(self, visits: list) -> None:
        """The audit trail of each chart: written by its nurse, opened again at sign-off."""
        from auditlog.models import LogEntry

        rows = []
        for visit in visits:
            for action, at in (
                (LogEntry.Action.CREATE, visit.planned_start),
                (LogEntry.Action.ACCESS, visit.planned_end),
            ):
                rows.append(
                    LogEntry(
                        content_type=self.visit_type,
                        object_pk=str(visit.pk),
                        object_id=visit.pk,
                        object_repr=f"Visit {visit.pk}",
                        action=action,
                        changes={} if action else None,
                        actor_id=visit.nurse_id,
                        remote_addr="10.0.0.10",
                        timestamp=at,
                    )
                )
        self.copy(LogEntry, rows)

    # --- the rest -------------------------------------------------------------------------------------------

    def agendas(self) -> None:
        """Each nurse's in-app agenda for every day of the history, and the coordinators' inbox."""
        rows = []
        for nurse in self.nurses:
            for days in range(1, HISTORY_DAYS):
                day = self.today - timedelta(days=days)
                at = datetime.combine(day - timedelta(days=1), time(23), tzinfo=UTC)
                rows.append(
                    Notification(
                        recipient=nurse,
                        channel=Notification.Channel.IN_APP,
                        kind=Notification.Kind.NURSE_AGENDA,
                        key=f"agenda:{nurse.pk}:{day.isoformat()}:in_app",
                        subject=f"Your visits on {day:%a %d %b}",
                        body="Your visits for tomorrow.",
                        url="/visits/today/",
                        due_at=at,
                        next_attempt_at=at,
                        attempts=1,
                        sent_at=at,
                        read_at=at + timedelta(hours=9) if days > 1 else None,
                        created_at=at,
                    )
                )
        for coordinator in self.coordinators:
            for n in range(60):
                at = self.now - timedelta(hours=6 * n + 1)
                rows.append(
                    Notification(
                        recipient=coordinator,
                        channel=Notification.Channel.IN_APP,
                        kind=Notification.Kind.UNASSIGNED_VISIT,
                        key=f"bench:coordinator:{coordinator.pk}:{n}",
                        subject="A visit has no nurse yet",
                        body="A visit needs a nurse.",
                        url="/schedule/",
                        due_at=at,
                        next_attempt_at=at,
                        attempts=1,
                        sent_at=at,
                        read_at=at + timedelta(minutes=30) if n > 5 else None,
                        created_at=at,
                    )
                )
        self.copy(Notification, rows)

    def build(self) -> Counter:
        with transaction.atomic():
            self.staff()
        self.patients()
        with transaction.atomic():
            self.agendas()
        return self.counts


CHARTED = (Visit.Status.INFUSING, Visit.Status.COMPLETED, Visit.Status.SIGNED)
# In the order their foreign keys need them.
CHART_MODELS = (
    VisitVerification,
    PreInfusionChecklist,
    PremedicationGiven,
    VialUsed,
    InfusionRecord,
    RateChange,
    VitalSigns,
    Reaction,
    VisitSignature,
)


def generate_agency(*, scale: float, now: datetime | None = None, say=print) -> Counter:
    """Write the agency at ``scale`` into the current (empty, migrated) database; return rows written per model."""
    return Agency(scale=scale, now=now, say=say).build()
