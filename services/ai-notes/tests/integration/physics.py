"""Eleven short physics lessons and paraphrased questions about them.

Written for this repository (no outside text); same licence as the code.
"""

LESSONS: dict[str, str] = {
    "Heat and entropy": """# Heat and entropy

## Heat flows downhill

Heat is energy in transit between bodies at different temperatures. Left alone, it
always passes from the warmer body to the colder one until both reach the same
temperature, a state called thermal equilibrium.

## Entropy

Entropy measures how many microscopic arrangements are compatible with what we
observe. The second law of thermodynamics says the entropy of an isolated system never
decreases, which is why a cup of coffee cools down but never warms up by itself.
""",
    "Newton's laws of motion": """# Newton's laws of motion

## Inertia

An object keeps moving in a straight line at constant speed, or stays at rest, unless a
net force acts on it. This tendency is called inertia, and mass is its measure.

## Force and acceleration

The acceleration of a body is proportional to the net force on it and inversely
proportional to its mass: F = m a. Pushing a loaded trolley needs more force than an
empty one to speed it up equally.

## Action and reaction

Forces come in pairs: when one body pushes another, the second pushes back on the first
equally hard in the opposite direction. A rocket moves forward by throwing exhaust gas
backward.
""",
    "Refraction of light": """# Refraction of light

## Light changes speed

Light travels more slowly in glass or water than in air. When a ray crosses the
boundary between two media at an angle, the change of speed bends its path; this
bending is called refraction.

## Everyday effects

Because of refraction, a straw standing in a glass of water seems broken at the
surface, and a pool looks shallower than it really is. Lenses use refraction to focus
light onto a point.
""",
    "Electric circuits": """# Electric circuits

## Current, voltage and resistance

An electric current is a flow of charge through a conductor, measured in amperes. The
voltage of a battery pushes the charge around the circuit, and the resistance of the
wires and components opposes the flow.

## Ohm's law

For many conductors the current is proportional to the voltage across them: V = I R.
Doubling the voltage across a resistor doubles the current through it.
""",
    "Magnetism": """# Magnetism

## Magnetic fields

Every magnet has a north and a south pole; like poles repel and unlike poles attract.
The region around a magnet where these forces act is its magnetic field, which iron
filings make visible as curved lines.

## Electromagnets

A current in a coil of wire produces a magnetic field much like a bar magnet's. Wound
around an iron core, the coil becomes an electromagnet that can be switched on and off,
as in scrapyard cranes and door bells.
""",
    "Sound waves": """# Sound waves

## Vibrations in a medium

Sound is a longitudinal wave: the particles of air, water or a solid vibrate back and
forth along the direction the wave travels. Sound cannot cross a vacuum, because there
is nothing there to vibrate.

## Pitch and loudness

The pitch of a note depends on the frequency of the vibration, measured in hertz; its
loudness depends on the amplitude. Humans hear frequencies from about 20 Hz to 20 kHz.
""",
    "Gravity and orbits": """# Gravity and orbits

## Universal gravitation

Every mass attracts every other mass with a force proportional to the product of the
masses and inversely proportional to the square of the distance between them.

## Orbits

A satellite in orbit is falling towards the Earth all the time, but it moves sideways so
fast that the ground curves away beneath it as quickly as it falls. The Moon stays in
orbit around the Earth for the same reason.
""",
    "Radioactive decay": """# Radioactive decay

## Unstable nuclei

Some atomic nuclei are unstable and turn into other nuclei by emitting alpha particles,
beta particles or gamma rays. When a given nucleus decays is a matter of chance.

## Half-life

The half-life of an isotope is the time after which half of the nuclei in a sample have
decayed. Carbon-14 has a half-life of about 5,730 years, which lets archaeologists date
wood and bone.
""",
    "Floating and buoyancy": """# Floating and buoyancy

## Archimedes' principle

A body immersed in a fluid is pushed upward by a force equal to the weight of the fluid
it displaces. This upward push is called buoyancy.

## Why ships float

A steel ship floats because its hull encloses a large volume of air, so it displaces
its own weight of water before it sinks very deep. A solid steel block displaces far
less water than it weighs and goes to the bottom.
""",
    "The photoelectric effect": """# The photoelectric effect

## Light ejects electrons

When light shines on a metal surface, electrons can be knocked out of it. Whether any
come out depends on the frequency of the light, not on its brightness: below a
threshold frequency, even very intense light frees none.

## Photons

Einstein explained this by treating light as made of packets called photons, each
carrying energy proportional to its frequency. One photon gives its energy to one
electron.
""",
    "Special relativity": """# Special relativity

## The speed of light is the same for everyone

Every observer moving at constant velocity measures the same speed of light in vacuum,
whatever their own motion.

## Time dilation

As a consequence, a clock moving fast relative to you ticks more slowly than yours. The
clocks of GPS satellites must be corrected for this effect, or positions would drift
by kilometres a day.
""",
}

# A question in other words than the lesson's, and the lesson that answers it.
QUESTIONS: list[tuple[str, str]] = [
    ("why does a cup of hot coffee cool down instead of heating up", "Heat and entropy"),
    ("why is more force needed to accelerate a heavy cart", "Newton's laws of motion"),
    ("why does a straw in water look broken", "Refraction of light"),
    ("what happens to the current through a resistor if the battery voltage doubles",
     "Electric circuits"),
    ("how does a crane in a scrapyard pick up cars with a coil", "Magnetism"),
    ("why can't sound travel through empty space", "Sound waves"),
    ("why doesn't the moon fall down onto the earth", "Gravity and orbits"),
    ("how do archaeologists find the age of old bones", "Radioactive decay"),
    ("how can a heavy steel ship float on water", "Floating and buoyancy"),
    ("why does bright red light not knock electrons out of a metal", "The photoelectric effect"),
    ("why do satellite clocks run slow", "Special relativity"),
]  # fmt: skip
