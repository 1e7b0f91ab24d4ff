namespace RobotFleet.Planning.Traffic;

/// <summary>Settings of a <see cref="PibtTrafficController"/>.</summary>
public sealed record PibtTrafficOptions
{
    /// <summary>How far ahead of a moving robot its way is released when free, in metres of lane (at least one waypoint is released).</summary>
    public double HorizonMetres { get; init; } = 6.0;

    /// <summary>Most waypoints released ahead of a robot at once (bounds what one robot holds).</summary>
    public int HorizonWaypoints { get; init; } = 6;

    /// <summary>
    /// Seconds (of the clock given to <see cref="PibtTrafficController.Step"/>) after which a claim on a waypoint that has not
    /// been granted is dropped and the robot decides again (a robot it waited for may be lost). In seconds, not steps: the
    /// control plane steps on every state report, so steps come faster the more robots report.
    /// </summary>
    public double ClaimTimeoutSeconds { get; init; } = 30;

    /// <summary>
    /// Seconds a robot with a goal stands still before it makes way for a robot that cannot make room for it and wants to
    /// come through its waypoint (the swap situation at a dead end); shorter makes PIBT's ordinary pushes churn in jams.
    /// Where making way costs one of the two at most 30 s and more than 30 s less than the other (which could make way too),
    /// by moves that clear its waypoint, that one makes way after 5 s (or this, if shorter), and one whose making way costs
    /// more than 30 s more than the other's after twice this (by then, at the defaults, the jam fallback and precedence have
    /// usually moved it).
    /// </summary>
    public double MakeWayAfterSeconds { get; init; } = 15;

    /// <summary>Seed of the tie-breaks (equal priorities, equally good moves); the controller is deterministic for a seed.</summary>
    public int Seed { get; init; } = 1;

    /// <summary>
    /// How many times its seconds a lane against its loop's flow costs in the travel times robots are routed and prioritised
    /// by (the flow: the direction <see cref="OneWayLoops"/> would drive each loop of two-way lanes round; highways in the
    /// sense of Cohen, Uras and Koenig, SoCS 2015): at least 1 (1: every lane at its seconds); null (the default): by the
    /// fleet's density, <see cref="PibtTrafficController.LoopFlowWeightFor"/>. The lanes stay open both ways: a robot
    /// drives against the flow where the way round is more than this many times longer (and steps onto its goal one lane
    /// back against the flow directly), and is pushed against it to make way. Set 1 where the lanes against the loops are
    /// closed anyway (<see cref="OneWayLoops"/> as a hard rule).
    /// </summary>
    public double? LoopFlowWeight { get; init; }

    /// <summary>
    /// Seconds a robot with a goal (or a spur to leave) goes without coming nearer it than ever before (standing, waiting on
    /// claims, or pushed back and forth) before the controller searches the configurations of the robots standing round it
    /// for moves that get it on (the jam fallback, see <see cref="PibtTrafficController"/>); a failed search is tried again
    /// after a third of this. 0 turns the fallback off.
    /// </summary>
    public double ResolveJamAfterSeconds { get; init; } = 30;

    /// <summary>Hops (lanes, either way) round the standing robot within which the jam fallback moves robots.</summary>
    public int JamRadiusHops { get; init; } = 10;

    /// <summary>Most robots one jam search moves (the standing robot and the nearest robots standing round it; at most 8).</summary>
    public int JamRobots { get; init; } = 6;

    /// <summary>Most configurations one jam search expands (bounds the time of a step that searches; a step may search twice, see <see cref="JamSparesUntilSeconds"/>).</summary>
    public int JamSearchBudget { get; init; } = 2_000;

    /// <summary>
    /// Seconds a robot with a goal goes without progress (as for <see cref="ResolveJamAfterSeconds"/>) after which another
    /// robot's jam plan leaves it where it stands, until that other robot has gone <see cref="JamSparesUntilSeconds"/>
    /// without progress. A plan may otherwise clear the way by sending a robot that is itself held up back round a loop
    /// (on a warehouse grid, from a two-way cross-aisle into a one-way aisle: 40 s lost in one move), which then stalls
    /// in its turn. 0 spares no robot.
    /// </summary>
    public double JamSparesAfterSeconds { get; init; } = 10;

    /// <summary>
    /// Seconds the robot a jam search is for goes without progress before its search may move the robots round it that are
    /// spared (<see cref="JamSparesAfterSeconds"/>) and have gone no longer without progress than it has (the same time
    /// counts as no longer): robots queued for one goal, each held up, must still make way for the one that has to leave. A
    /// spared robot held up longer than the robot the search is for is never moved by its plan (its own search, and
    /// precedence, come first). Used only when the search without the spared robots finds no plan; not waited for where
    /// the few robots round the stuck one are all held up and the lanes round it are two-way (<see cref="JamSparesNotOnTwoWayLanes"/>).
    /// </summary>
    public double JamSparesUntilSeconds { get; init; } = 60;

    /// <summary>
    /// Seconds a robot with a goal stands still (does not leave its waypoint) after which, where its jam search finds no
    /// plan, it is searched for once more with the last-resort lanes (<see cref="PibtTrafficController.SetLastResortLanes"/>:
    /// on a loop driven one way round, the lanes against the loop) and the passing lanes open to the robots round it (not
    /// to itself): robots queued on a one-way loop behind a robot that cannot move on may then back up against the loop.
    /// The search itself comes only after <see cref="ResolveJamAfterSeconds"/> without progress (none when that is 0), so
    /// the last resort acts after the later of the two. Traced on the office one way round (4 robots, seed 24 of the twenty-third
    /// session): robots placed nose to tail at the start behind one standing too close to a charger's spur stood for the
    /// whole half-hour. The same number of seconds without progress lets the robots round a robot for which no plan was
    /// found ride a lift to make way (a robot in a lift backing out of the way of one at its door that cannot back away),
    /// which plans before do not. 0 never opens either.
    /// </summary>
    public double JamLastResortAfterSeconds { get; init; } = 60;

    /// <summary>
    /// Whether a jam search moves the spared robots round the stuck robot at once (not only after
    /// <see cref="JamSparesUntilSeconds"/>) where every robot standing within <see cref="JamRadiusHops"/> of it (not busy,
    /// not in a plan) is spared and the search can take them all (at most <see cref="JamRobots"/> - 1), and every lane
    /// leaving a waypoint within that radius has a lane back. No robot is then free to help, no other robot stands near,
    /// and none is sent round a one-way loop by being moved back (what sparing is for), so waiting only lengthens the jam. Traced on the office map with 4
    /// robots held up round one hub waypoint: 60 s of waiting, then 45 s to clear (through the coordinator, seeds 1 to 50,
    /// 30 minutes each: 20 stalls before, 5 with it; bench/results/traffic-pibt.md, eleventh session). Grids with one-way
    /// aisles are unchanged. Without the condition that the search takes every robot near, the airport terminal drawn two-way
    /// (crowded, and jammed for good either way: its loops want <see cref="OneWayLoops"/>) got fewer deliveries and, through
    /// the coordinator at 20 robots, more robots stalled at the end.
    /// </summary>
    public bool JamSparesNotOnTwoWayLanes { get; init; } = true;

    /// <summary>Seconds a jam plan may wait for its next move to be clear (robots outside it in the way) before it is given up.</summary>
    public double JamPlanPatienceSeconds { get; init; } = 30;

    /// <summary>
    /// Seconds a robot with a goal goes without coming nearer it than ever before (as for
    /// <see cref="ResolveJamAfterSeconds"/>) before it may take precedence over every robot that has not waited as long (see
    /// <see cref="PrecedenceShare"/>). 0 turns precedence off.
    /// </summary>
    public double PrecedenceAfterSeconds { get; init; } = 30;

    /// <summary>
    /// Share of the fleet (0..1; at least one robot) that may hold precedence at once: the robots longest without progress.
    /// A robot given precedence pushes the others, who then lose progress themselves, so neither few nor all is best;
    /// measured on the 100 x 100 warehouse, one hour (<c>bench/RobotFleet.TrafficSim</c>, 2026-12-01): at 200 robots,
    /// seeds 1 to 10, 0.02 left 5 stalls (robots 2 minutes without progress), 0.05 and 0.10 none; seeds 1 to 60, 0.05 left
    /// 1 and 0.10 left 2; at 500 robots (seed 1), 0.02 / 0.05 / 0.10 / 1 left 832 / 494 / 1,227 / 818 (all with the jam
    /// plans' rule of the same day; before it, with 0.02, 272: at 500 robots the two changes together cost stalls).
    /// </summary>
    public double PrecedenceShare { get; init; } = 0.05;

    /// <summary>
    /// Most seconds a push may cost a robot unless the robot that started the push holds precedence (<see cref="PrecedenceAfterSeconds"/>, or it is
    /// leaving a dead-end spur); a push that would cost more is refused and the pusher tries its next move or waits. The
    /// cost is the key the pushed robot's moves are ranked by, less its travel time to its goal from where it stands: for
    /// most moves the travel time from the waypoint it is pushed to; for a move back along the pusher's own way, the
    /// retreat that move starts (the drive to the best place to step aside, times <see cref="PushedRetreatPace"/>, plus the
    /// travel time from there, or the retreat and the drive back when there is none within 40 waypoints); a move from
    /// which its goal cannot be reached costs without limit. On
    /// loops driven one way round (<see cref="OneWayLoops"/>) the only way to make room is often forward, round the whole
    /// loop: on the airport terminal a robot 26 s from its goal was pushed round a 190 s loop by a robot that had waited
    /// a few seconds. The robot longest without progress always holds precedence and may push any robot, so PIBT's
    /// guarantee still holds for it (see <see cref="PibtTrafficController"/>). Applies only while precedence is on; 0 turns it off. It must exceed the
    /// detours that make room well: on the warehouse grid, round an aisle loop (about 40 s); 30 s left 7 stalls on seeds
    /// 1 to 10 at 200 robots (none with 60 or 120 s) and 23 % fewer deliveries.
    /// </summary>
    public double PushDetourLimitSeconds { get; init; } = 60;

    /// <summary>
    /// How many times its drive time a pushed robot's retreat along the way of the robot pushing it is priced at (at least 1;
    /// see <see cref="PibtTrafficController"/>, chase pricing): pushed back one waypoint at a time, it stops at each until the
    /// pusher's claim on the waypoint it left is granted (traced on the warehouse grid: 6 s a 2 s lane). Priced at its drive
    /// time, a retreat along a two-way cross-aisle looked cheaper than stepping into the one-way aisle beside it; measured
    /// on the 100 x 100 warehouse, 200 robots, one hour (<c>bench/RobotFleet.TrafficSim</c>, 2026-12-02), seeds 1 to 100
    /// (robots 2 minutes without progress): 3 with 1 (seeds 79, 83, 99), none with 2 (1.7 % more deliveries), 2 with 3.
    /// From 1 to 100 (a construction error names it otherwise).
    /// </summary>
    public double PushedRetreatPace { get; init; } = 2;

    /// <summary>
    /// How long, in seconds, a robot a single move took far from its goal waits to return, 0 turning it off. A far move adds
    /// 60 s or more to its travel time (<see cref="PibtTrafficController.FarMoveSeconds"/>): under the loop flow weight, a
    /// robot that had to leave the mouth of the spur its goal is in, for a robot coming out, and was pushed or stepped one
    /// lane on along the loop (the lane back costs K times its seconds, the way round some 200 s on the airport terminal).
    /// For this long it does not drive on of its own accord nor get its way released ahead; pushed, it steps off the
    /// pusher's way where it can (into a side lane), and along that way only for a robot holding precedence (so it may hold
    /// a lane up for the rest of the wait: measured, no site got a stall from it); and every second the jam fallback searches moves
    /// of the robots standing round it that bring it back to a waypoint as near its goal as the one it left
    /// (<see cref="JointSearch"/>, released move by move, so no robot meets another head-on on the way back). Found nothing
    /// by then, it goes round. Only with the jam fallback on (<see cref="ResolveJamAfterSeconds"/>) and a loop flow weight
    /// above 1 in force (any move counts: its own, a push, a jam plan's). Measured on the airport terminal as drawn, 50 robots, 1 h, seeds 1 to 100
    /// (<c>bench/RobotFleet.TrafficSim</c>, 2026-12-03): robots 2 minutes without progress 9 → 3. From 0 to 3,600 (a
    /// construction error names it otherwise).
    /// </summary>
    public double FarMoveWaitSeconds { get; init; } = 60;
}

/// <summary>What one <see cref="PibtTrafficController.Step"/> released to one robot.</summary>
/// <param name="RobotId">The robot.</param>
/// <param name="Waypoints">Waypoint ids newly released, in driving order, continuing from the last waypoint it held.</param>
/// <param name="Detour">True when the first of them is not on the robot's fastest way to its goal (it was pushed aside, or it has none).</param>
public sealed record TrafficRelease(string RobotId, IReadOnlyList<string> Waypoints, bool Detour);

/// <summary>
/// Traffic control by <b>priority inheritance with backtracking</b> (PIBT: K. Okumura, M. Machida, X. Défago, Y. Tamura,
/// "Priority inheritance with backtracking for iterative multi-agent path finding", Artificial Intelligence 310, 2022),
/// executed the <b>time-independent</b> way of Causal-PIBT (K. Okumura, Y. Tamura, X. Défago, "Time-Independent Planning for
/// Multiple Moving Agents", AAAI 2021): robots move asynchronously and nobody knows how long a lane takes. Decides how far
/// each robot's order is released (the VDA 5050 base) over the resources of a <see cref="TrafficSpace"/>.
/// </summary>
/// <remarks>
/// <para><b>Holding.</b> A robot holds the waypoint it last reached and everything released ahead of it (waypoints and the
/// lane segments between them). Nothing is held by two robots, and nothing is released to a robot while another robot holds
/// a conflicting resource (closer than the footprint diameter, the same lift, the same doorway), so robots that drive only
/// what they were released never collide. A robot gives up what is behind it when it reports the next waypoint
/// (<see cref="Reached"/>).</para>
/// <para><b>Deciding</b> (each <see cref="Step"/>): robots standing at the end of what they hold, not busy, decide one at a
/// time, highest priority first; a robot's priority grows with every step since it got its goal and drops when it has none
/// (PIBT's dynamic priority), and the few robots longest without progress rank above all others
/// (<see cref="PibtTrafficOptions.PrecedenceAfterSeconds"/>). A deciding robot tries its neighbour waypoints (and staying) best first, by travel time to its
/// goal. A free one is taken at once. One held by a robot that has not decided yet is <i>claimed</i>, and that robot must
/// move out of the way first: it decides at once, inheriting the priority, and may not move onto the claimer's waypoint
/// (no swaps); if it cannot move anywhere the claimer backtracks to its next choice. A pushed robot that would back away
/// along the pusher's own way is pushed again at every step, so that move is priced by the retreat it starts: the drive
/// along the way to the best place to step aside (times <see cref="PibtTrafficOptions.PushedRetreatPace"/>: pushed, it goes
/// one waypoint at a time), plus the travel time from there (PIBT leaves the order of a pushed
/// robot's candidates free, so this keeps its guarantees; without it robots were pushed back along whole two-way
/// corridors one waypoint at a time). A push that would cost the pushed robot more than
/// <see cref="PibtTrafficOptions.PushDetourLimitSeconds"/> is refused unless the robot that started it holds precedence
/// (it then tries its next move, or waits). One held by a robot already driving off it is claimed too (following). A
/// claim is granted once the waypoint and lane are clear (never to a robot turned busy meanwhile: its claim is dropped).
/// Moving robots then have their way extended along their fastest route while it is free, up to
/// <see cref="PibtTrafficOptions.HorizonMetres"/>.</para>
/// <para><b>Why no deadlock</b> (Coffman: a deadlock needs a circular wait). A robot waits only through a claim, and only on
/// a robot that is driving off with a granted move, or that it pushed and that then found a move (granted, or its own claim
/// further down the push). A claim never targets a robot that has already decided this step, except one driving off with
/// a granted move; with the no-swap rule this means the claims of one step form a forest whose roots are granted moves,
/// and every granted move ends once the robot drives it. A pushed robot may stop next to the waypoint claimed from it (the
/// only way off may be there, closer than the footprint allows); a claim left waiting only on robots standing free to
/// decide is dropped, and the claimer decides again: it pushes them on to places clear of the waypoint, or, where there is
/// none, takes another move or stays (PIBT's backtracking). So waits always end: no circular wait. What PIBT adds is progress:
/// the robot of highest priority can push any robot in its way (priority inheritance), and backtracking finds a way out for
/// the pushed when there is one; since priorities grow while robots are not at their goals, each gets its turn at the top
/// (PIBT's reachability theorem, for graphs in which every two adjacent waypoints lie on a cycle). With precedence on, the
/// top is the robot longest without progress (<see cref="PibtTrafficOptions.PrecedenceAfterSeconds"/>): it always holds
/// precedence, so it may also make the pushes that cost a robot more than
/// <see cref="PibtTrafficOptions.PushDetourLimitSeconds"/> (refused to robots without precedence), and its wait only grows
/// until it gets nearer its goal.</para>
/// <para><b>Dead ends, lifts, doors</b> are resources of the <see cref="TrafficSpace"/>: a dead-end spur, a lift and a
/// doorway each take one robot at a time. Nobody is pushed into a dead end or onto a lift: a robot enters one only on its
/// way to its goal (a lift is held from entering until it has left it). One exception: a robot pushed by a robot coming
/// out of a spur may step into an empty spur beside it rather than drive a long way round (a one-way loop). The spur
/// rule keeps robots out of a spur another robot is in; robots that are in one spur together (parked there) move in it
/// and out of it apart by geometry alone. A robot without a goal in a spur that another robot heads for, or that a robot
/// could not push out of its way, or that stands too close to the spur's mouth for a robot to pass it, leaves it for the
/// spur's mouth, and is pushed on from there; a robot bound past the mouth waits meanwhile where it is not in the way out.
/// A dead-end chain inside a larger dead-end tree (a corridor of rooms in a hotel wing) is no spur, but nobody can pass in
/// it either: a robot that has stood still heading out of one, two lanes or more from the fork where it can step aside,
/// goes first out to that fork as a robot leaving a spur does; an idle robot a robot could not push out of one leaves for
/// that fork. And a robot bound into such a chain does not step onto the fork while a robot with a mission is in the
/// chain (it would come out through the robot that came in); standing on that robot's way out, it steps aside for it
/// (<see cref="ChainOccupant"/>); pushed along a one-way lane, it is not pushed onto that fork either. The rule that keeps
/// robots off the mouth of a spur another robot is in holds when a claim is granted too, and a robot waiting by it short
/// of the mouth, while the robot in the spur is busy there or driving, is not taken for a jam (the jam fallback would move
/// it onto the mouth). On a loop driven one way round, a robot bound past a spur's mouth on which a robot stands on
/// business, while another robot with a mission is in the spur, waits short of the waypoint the one on the
/// mouth would back up to (<see cref="KeepsBackUpFree"/>), so that one can still let the robot in the spur out; pushed
/// along the loop, it is not pushed onto that waypoint either.</para>
/// <para><b>Loop flow.</b> On maps drawn with two-way single lanes, robots meeting head-on in a corridor must back one of
/// them out of it; with many robots that is what jams them. Travel times (what robots are routed and prioritised by) count
/// a lane against its loop's flow, the direction <see cref="OneWayLoops"/> would drive the loop round, as
/// <see cref="PibtTrafficOptions.LoopFlowWeight"/> times its seconds, more the denser the fleet: the highways of Cohen,
/// Uras and Koenig ("Feasibility study: Using highways for bounded-suboptimal multi-agent path finding", SoCS 2015), with
/// the direction from Robbins' orientation. Every lane stays open, so nothing is cut off and a robot is still pushed
/// against the flow to make way; PIBT's argument above is unchanged (it holds for any travel-time function).</para>
/// <para><b>Limits</b> (measured with <c>bench/RobotFleet.TrafficSim --controller pibt</c>). Robots on a cycle that is
/// packed full cannot all move round it at once (a rotation: PIBT allows it, the time-independent execution here does not).
/// The reachability theorem needs every two adjacent waypoints on a cycle: at a dead end a robot that must come out past
/// the robot of higher priority waiting at the mouth cannot be pushed (it may not swap places with its pusher). For that
/// case the robot at the mouth, once it has stood still for <see cref="PibtTrafficOptions.MakeWayAfterSeconds"/> (waiting
/// on claims included; where both could make way and it costs one at most 30 s and more than 30 s less than the other,
/// by moves that clear its waypoint, that one after 5 s or MakeWayAfterSeconds if shorter, and one whose making way costs
/// more than 30 s more than the other's after twice MakeWayAfterSeconds), makes way (takes its next best move, worse than
/// staying) so the other can follow it out: the swap of PIBT+ (K. Okumura, "Engineering LaCAM*", AAMAS 2024) in
/// time-independent form; likewise when the robot in its way has already decided to stay and wants through its waypoint (a robot coming off a lift that no robot may ride to make
/// room, facing one that wants on). As in PIBT+, the swap goes on until the two have passed: while the other robot follows
/// (holds or claims the waypoint left for it, or heads there next and may take it; at most twice MakeWayAfterSeconds
/// between two moves), the robot that made way neither pushes it back nor takes the waypoint it heads for next, so it goes
/// on backing off, or into a side pocket, instead of the two taking turns pushing each other along the corridor. On maps with long two-way single-lane corridors on loops, packed densely (the
/// Open-RMF airport terminal with 20 or 50 robots) robots are pushed back and forth head-on without a loop flow weight
/// (<see cref="PibtTrafficOptions.LoopFlowWeight"/> 1): every hour a robot goes two minutes or more without getting
/// nearer its goal 64 to 103 times with 20 robots and 199 to 282 times with 50, dozens stalled for good; with the
/// loops driven one way round (<see cref="OneWayLoops"/>) 0 and, over 100 one-hour runs with 50 robots, once in all
/// (18 in the tenth session; 14 with the passing lanes, <see cref="SetPassingLanes"/>, which let a robot on a spur's mouth
/// back up for the robot coming out; 12 with the cheaper of two robots making way in a swap; 13 with the dead-end chain
/// rule; 2 once robots no longer got onto an occupied spur's mouth by a push, a granted claim or a jam plan, nor stood
/// where the robot on a mouth would back up to; 1 since the twenty-third session: a robot placed at the start where it
/// can only go round). As drawn, with the loop flow weight by density (the default, 100 at 50
/// robots there), 9 times in those 100 hours and none left stalled at the end of a run (four in the two-way corridor to
/// <c>s20</c>, which is no loop, three at the spur to <c>s15_0</c>, two elsewhere); 3 times with the wait for a way back
/// (<see cref="PibtTrafficOptions.FarMoveWaitSeconds"/>) and the wing-mouth rule (<see cref="WaitsAtMouth"/>); not once
/// since jam plans keep to those dead ends too (no robot of a plan parked ahead of the stuck one in the spur its goal is
/// in, no plan's move onto a wing's mouth a robot is coming out of; thirty-third session). A robot whose goal is one lane back
/// against the flow steps onto it directly whatever the weight (PIBT ranks moves by the time from where they lead, 0 at
/// the goal; charging the weight on that step cost more stalls on the airport: 9 to 16). On the 100 x 100 warehouse
/// grid it happened in none of 100 simulated hours at 200 robots (3 times before <see cref="PibtTrafficOptions.PushedRetreatPace"/>) and
/// 500 to 1,700 times an hour at 500 (figures in <c>bench/results/traffic-pibt.md</c>). A robot
/// that never moves again (lost) holds its place until the caller removes it (claims on it time out and their robots
/// decide again).</para>
/// <para><b>Jam fallback.</b> Where PIBT's pushes and make-way still leave a robot without progress (not nearer its goal
/// than before) for <see cref="PibtTrafficOptions.ResolveJamAfterSeconds"/>, standing or pushed back and forth (on maps
/// that are trees round a dead end or a lift, where the reachability theorem does not hold), a bounded search over the
/// configurations of the few robots standing round it (<see cref="JointSearch"/>: LaCAM's configuration search, K. Okumura,
/// AAAI 2023, as a weighted A* over single moves) looks for moves after which it is nearer its goal with its way clear;
/// those moves are released one after another, each only once nothing conflicting is held (so still collision-free), and
/// its robots neither decide nor are pushed until the plan is through or has waited
/// <see cref="PibtTrafficOptions.JamPlanPatienceSeconds"/>. A robot is released no more of a plan than the horizon ahead;
/// once all moves left are one robot's, the others decide again; a plan ends at once when the robot in its way stands
/// outside it and wants through a waypoint one of its robots holds (a circular wait). Where no plan is found for a robot
/// that has stood still for <see cref="PibtTrafficOptions.JamLastResortAfterSeconds"/>, the robots round it may back up
/// along lanes closed only by a traffic rule (<see cref="SetLastResortLanes"/>: against a one-way loop); the stuck robot
/// itself keeps to the open lanes. The robots round the stuck one ride a lift in a plan only on their own way, to make way
/// only once the stuck robot has gone that long without progress and no plan without such rides is found.</para>
/// <para>Not thread-safe: one caller (the coordinator's single writer, or the simulation) at a time. Deterministic for
/// a seed and a sequence of calls.</para>
/// </remarks>
public sealed class PibtTrafficController
{
    private readonly TrafficSpace _space;
    private readonly PibtTrafficOptions _options;
    private readonly List<Agent> _agents = [];
    private readonly Dictionary<string, Agent> _byId = new(StringComparer.Ordinal);

    /// <summary>Robots whose progress stopped at or before this time take precedence this step (<see cref="GivePrecedence"/>).</summary>
    private double _precedenceBefore = double.NegativeInfinity;
    private readonly int[] _owner;
    private readonly int[] _claimer;
    private readonly HashSet<int> _closed = [];
    private readonly HashSet<int> _passing = [];
    private readonly HashSet<int> _lastResort = [];
    private readonly Func<int, bool> _isClosed;

    /// <summary>The waypoints stranded robots hold (see <see cref="SetStranded"/>), as of the last step.</summary>
    private readonly HashSet<int> _strandedAt = [];
    private readonly HashSet<int> _strandedScratch = [];
    private readonly Func<int, bool> _isStrandedAt;
    private readonly List<JamPlan> _plans = [];
    private int _closures;
    private long _step;
    private double _now;
    private double _flowWeight = 1;

    /// <summary>Creates a controller with no robots.</summary>
    /// <param name="space">The traffic space of the site.</param>
    /// <param name="options">Settings; null for the defaults.</param>
    /// <exception cref="ArgumentOutOfRangeException">A setting is out of its range (not finite, negative, a share above 1); the message names it.</exception>
    public PibtTrafficController(TrafficSpace space, PibtTrafficOptions? options = null)
    {
        ArgumentNullException.ThrowIfNull(space);
        _space = space;
        _options = Validated(options ?? new PibtTrafficOptions());
        _owner = new int[space.ResourceCount];
        _claimer = new int[space.ResourceCount];
        Array.Fill(_owner, -1);
        Array.Fill(_claimer, -1);
        _isClosed = l => _closed.Contains(l) || _passing.Contains(l);
        _isStrandedAt = w => _strandedAt.Contains(w);
        _spursAtMouth = new int[space.WaypointCount][];
        for (var w = 0; w < _spursAtMouth.Length; w++)
            _spursAtMouth[w] = [];
        for (var b = 0; b < space.BranchMouth.Length; b++)
        {
            if (space.SpurArray[b])
                _spursAtMouth[space.BranchMouth[b]] = [.. _spursAtMouth[space.BranchMouth[b]], b];
        }

        UpdateFlowWeight();
    }

    /// <summary>For each waypoint, the dead-end spurs whose mouth it is (see <see cref="TrafficSpace.BranchMouth"/>).</summary>
    private readonly int[][] _spursAtMouth;

    private static PibtTrafficOptions Validated(PibtTrafficOptions o)
    {
        static void Check(bool ok, string name, object value, string rule)
        {
            if (!ok)
                throw new ArgumentOutOfRangeException("options", value, $"PibtTrafficOptions.{name} must be {rule}, not {value}.");
        }

        static bool Seconds(double v) => double.IsFinite(v) && v >= 0;
        Check(double.IsFinite(o.HorizonMetres) && o.HorizonMetres > 0, nameof(o.HorizonMetres), o.HorizonMetres, "a finite number of metres > 0");
        Check(o.HorizonWaypoints >= 1, nameof(o.HorizonWaypoints), o.HorizonWaypoints, "at least 1");
        Check(double.IsFinite(o.ClaimTimeoutSeconds) && o.ClaimTimeoutSeconds > 0, nameof(o.ClaimTimeoutSeconds), o.ClaimTimeoutSeconds, "a finite number of seconds > 0");
        Check(Seconds(o.MakeWayAfterSeconds), nameof(o.MakeWayAfterSeconds), o.MakeWayAfterSeconds, "a finite number of seconds >= 0");
        Check(Seconds(o.ResolveJamAfterSeconds), nameof(o.ResolveJamAfterSeconds), o.ResolveJamAfterSeconds, "a finite number of seconds >= 0 (0: off)");
        Check(o.JamRadiusHops >= 1, nameof(o.JamRadiusHops), o.JamRadiusHops, "at least 1");
        Check(o.JamRobots is >= 1 and <= 8, nameof(o.JamRobots), o.JamRobots, "1 to 8");
        Check(o.JamSearchBudget >= 1, nameof(o.JamSearchBudget), o.JamSearchBudget, "at least 1");
        Check(Seconds(o.JamSparesAfterSeconds), nameof(o.JamSparesAfterSeconds), o.JamSparesAfterSeconds, "a finite number of seconds >= 0 (0: off)");
        Check(Seconds(o.JamSparesUntilSeconds), nameof(o.JamSparesUntilSeconds), o.JamSparesUntilSeconds, "a finite number of seconds >= 0");
        Check(Seconds(o.JamLastResortAfterSeconds), nameof(o.JamLastResortAfterSeconds), o.JamLastResortAfterSeconds, "a finite number of seconds >= 0 (0: never)");
        Check(Seconds(o.JamPlanPatienceSeconds), nameof(o.JamPlanPatienceSeconds), o.JamPlanPatienceSeconds, "a finite number of seconds >= 0");
        Check(Seconds(o.PrecedenceAfterSeconds), nameof(o.PrecedenceAfterSeconds), o.PrecedenceAfterSeconds, "a finite number of seconds >= 0 (0: off)");
        Check(o.PrecedenceShare is >= 0 and <= 1, nameof(o.PrecedenceShare), o.PrecedenceShare, "a share from 0 to 1");
        Check(Seconds(o.PushDetourLimitSeconds), nameof(o.PushDetourLimitSeconds), o.PushDetourLimitSeconds, "a finite number of seconds >= 0 (0: off)");
        Check(o.PushedRetreatPace is >= 1 and <= 100, nameof(o.PushedRetreatPace), o.PushedRetreatPace, "a factor from 1 to 100");
        Check(o.FarMoveWaitSeconds is >= 0 and <= 3600, nameof(o.FarMoveWaitSeconds), o.FarMoveWaitSeconds, "a number of seconds from 0 to 3600 (0: off)");
        Check(o.LoopFlowWeight is null or (>= 1 and <= MaxLoopFlowWeight), nameof(o.LoopFlowWeight), o.LoopFlowWeight ?? 0, $"null (by density) or a factor from 1 to {MaxLoopFlowWeight}");
        return o;
    }

    /// <summary>The traffic space the controller reserves.</summary>
    public TrafficSpace Space => _space;

    /// <summary>Most a lane against a loop's flow is made to cost, times its seconds (<see cref="PibtTrafficOptions.LoopFlowWeight"/>).</summary>
    public const double MaxLoopFlowWeight = 100;

    /// <summary>
    /// The loop flow weight for a fleet's density, the default of <see cref="PibtTrafficOptions.LoopFlowWeight"/>:
    /// min(100, 3 + 3.75 x d^2), rounded to a whole number, with d the robots per 100 m of lane on the map's loops
    /// (<see cref="TrafficSpace.LoopMetres"/>); 1 on a map without loops and for a robot alone (it meets nobody head-on). Few robots drive the short way against the flow
    /// (a head-on meeting is rare and cheap); a dense fleet keeps to the flow, since head-on meetings in single-lane
    /// corridors are what jams it. Calibrated on the Open-RMF airport terminal as drawn (975 m of loops): 5 robots weight 4,
    /// 10 robots 7, 20 robots 19, 50 robots 100 (figures in <c>bench/results/traffic-pibt.md</c>, twenty-sixth session).
    /// </summary>
    /// <param name="robots">Robots in traffic control (>= 0).</param>
    /// <param name="loopMetres">Metres of lane on the map's loops (>= 0).</param>
    /// <returns>A weight from 1 to <see cref="MaxLoopFlowWeight"/>.</returns>
    /// <exception cref="ArgumentOutOfRangeException">A count or length is negative (or not a number).</exception>
    public static double LoopFlowWeightFor(int robots, double loopMetres)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(robots);
        if (!(loopMetres >= 0))
            throw new ArgumentOutOfRangeException(nameof(loopMetres), loopMetres, "Loop length must be a number of metres >= 0.");
        if (loopMetres == 0 || robots < 2)
            return 1;
        var per100 = 100 * robots / loopMetres;
        return Math.Round(Math.Min(MaxLoopFlowWeight, 3 + (3.75 * per100 * per100)));
    }

    /// <summary>The loop flow weight in force (<see cref="PibtTrafficOptions.LoopFlowWeight"/>; by density, it changes as robots are placed and removed).</summary>
    public double LoopFlowWeight => _flowWeight;

    /// <summary>
    /// Sets the loop flow weight for the robots now in traffic control. When it changes, every robot's best time to its
    /// target is measured again in the new times, its time without progress kept: a robot joining the fleet neither counts
    /// as progress for the others nor takes theirs away.
    /// </summary>
    private void UpdateFlowWeight()
    {
        var weight = _options.LoopFlowWeight ?? LoopFlowWeightFor(_agents.Count(a => !a.Removed), _space.LoopMetres);
        if (weight == _flowWeight)
            return;
        _flowWeight = weight;
        RemeasureProgress();
    }

    /// <summary>Measures every robot's best time to its target again in the times now in force, its time without progress kept.</summary>
    private void RemeasureProgress()
    {
        foreach (var agent in _agents.Where(a => !a.Removed && a.ProgressTarget >= 0 && a.ProgressTarget == a.Target && a.Path.Count > 0))
            agent.BestTime = Times(agent)[agent.Path[0]];
    }

    /// <summary>
    /// Marks a robot stranded or not: it will not move until a person acts (lost, in a fatal error, paused). The travel times
    /// the others are routed and prioritised by then charge <see cref="TrafficSpace.StrandedPassSeconds"/> for driving on
    /// through a waypoint it holds, so they go round it where there is any other way (even one against a loop's flow,
    /// however weighted), and queue behind it as before where there is none; a goal on such a waypoint costs nothing more.
    /// Takes effect at the next <see cref="Step"/>; does not make the robot busy (<see cref="SetBusy"/>). Not thread-safe.
    /// </summary>
    /// <exception cref="KeyNotFoundException">The robot was never placed.</exception>
    public void SetStranded(string robotId, bool stranded) => Get(robotId).Stranded = stranded;

    /// <summary>Whether any place is kept from being passed for a stranded robot (<see cref="IsStrandedAt"/>), as of the last <see cref="Step"/>.</summary>
    public bool AnyStranded => _strandedAt.Count > 0;

    /// <summary>
    /// Whether driving on through a waypoint costs <see cref="TrafficSpace.StrandedPassSeconds"/> more, as of the last
    /// <see cref="Step"/>: a stranded robot holds it or stands too close to pass it (<see cref="SetStranded"/>).
    /// </summary>
    /// <exception cref="ArgumentException">The waypoint is not on the map.</exception>
    public bool IsStrandedAt(string waypointId) => _strandedAt.Contains(_space.IndexOf(waypointId));

    /// <summary>A travel time for <see cref="Explain"/>: "12.5 s to goal", and how many stranded robots' places it passes ("12.5 s to goal past 1 robot that will not move").</summary>
    private static string TimeText(float time, string to)
    {
        var past = float.IsInfinity(time) ? 0 : (int)(time / TrafficSpace.StrandedPassSeconds);
        return past == 0
            ? $"{time:0.#} s to {to}"
            : $"{time - (past * TrafficSpace.StrandedPassSeconds):0.#} s to {to} past {past} robot{(past == 1 ? "" : "s")} that will not move";
    }

    /// <summary>
    /// Collects the waypoints stranded robots hold and those in hard conflict with what they hold (too close to pass: a
    /// footprint apart on maps whose waypoints stand closer); when they changed, the times change with them (progress re-measured).
    /// </summary>
    private void UpdateStranded()
    {
        _strandedScratch.Clear();
        foreach (var agent in _agents)
        {
            if (!agent.Stranded || agent.Removed)
                continue;
            for (var i = 0; i < agent.Path.Count; i++)
            {
                AddStranded(agent.Path[i]);
                if (i + 1 < agent.Path.Count && SegmentBetween(agent.Path[i], agent.Path[i + 1]) is var segment and >= 0)
                    AddStranded(segment);
            }
        }

        if (_strandedScratch.SetEquals(_strandedAt))
            return;
        _strandedAt.Clear();
        _strandedAt.UnionWith(_strandedScratch);
        _closures++;
        RemeasureProgress();

        void AddStranded(int resource)
        {
            if (resource < _space.WaypointCount)
                _strandedScratch.Add(resource);
            foreach (var r in _space.HardConflicts[resource])
            {
                if (r < _space.WaypointCount)
                    _strandedScratch.Add(r);
            }
        }
    }

    /// <summary>Steps taken so far.</summary>
    public long Steps => _step;

    /// <summary>
    /// Puts a robot (new, or one that turned up somewhere else) standing at a waypoint: it gives up whatever it held and holds
    /// that waypoint. When another robot already holds it (two robots placed on one waypoint), it holds nothing until it has
    /// driven off; its first move is then only onto free waypoints.
    /// </summary>
    /// <exception cref="ArgumentException">The waypoint is not on the map.</exception>
    public void Place(string robotId, string waypointId)
    {
        ArgumentNullException.ThrowIfNull(robotId);
        var w = _space.IndexOf(waypointId);
        if (!_byId.TryGetValue(robotId, out var agent))
        {
            agent = new Agent(robotId, _agents.Count, Tie(robotId));
            _agents.Add(agent);
            _byId[robotId] = agent;
        }

        ReleaseAll(agent);
        agent.Removed = false;
        agent.Path.Add(w);
        if (_owner[w] == -1)
            _owner[w] = agent.Index;
        UpdateFlowWeight();
    }

    /// <summary>
    /// Puts a robot standing at a waypoint that was already released further (<paramref name="releasedAhead"/>, in driving
    /// order: a robot that may still drive its released base, e.g. after the caller restarted, or one that was lost): it
    /// holds them as if released here. It holds them up to the first that another robot holds, or that no lane leads to from
    /// the one before; as <see cref="Place(string, string)"/> when it shares its waypoint. Only holders are checked, not the
    /// footprint: the caller released these waypoints before, when they were clear.
    /// </summary>
    /// <exception cref="ArgumentException">A waypoint is not on the map.</exception>
    public void Place(string robotId, string waypointId, IEnumerable<string> releasedAhead)
    {
        ArgumentNullException.ThrowIfNull(releasedAhead);
        Place(robotId, waypointId);
        var agent = _byId[robotId];
        if (_owner[agent.Path[0]] != agent.Index)
            return;
        foreach (var id in releasedAhead)
        {
            var v = _space.IndexOf(id);
            var lane = _space.LaneBetween(agent.Path[^1], v);
            if (lane < 0 || _owner[v] != -1 || _owner[_space.LaneResource[lane]] != -1)
                return;
            Take(agent, v, _space.LaneResource[lane]);
        }
    }

    /// <summary>Takes a robot out of traffic control (it releases everything it holds); unknown robots are ignored.</summary>
    public void Remove(string robotId)
    {
        if (!_byId.TryGetValue(robotId, out var agent))
            return;
        ReleaseAll(agent);
        agent.Removed = true;
        agent.Goal = -1;
        (agent.Busy, agent.Stranded) = (false, false); // placed again, it starts as any robot does
        UpdateFlowWeight();
    }

    /// <summary>Sets the waypoint a robot is heading for, or null when it has none (it then stays unless it must make room).</summary>
    /// <exception cref="KeyNotFoundException">The robot was never placed.</exception>
    /// <exception cref="ArgumentException">The waypoint is not on the map.</exception>
    public void SetGoal(string robotId, string? waypointId)
    {
        var agent = Get(robotId);
        var goal = waypointId is null ? -1 : _space.IndexOf(waypointId);
        if (goal == agent.Goal)
            return;
        agent.Goal = goal;
        agent.GoalSince = _step;
    }

    /// <summary>Marks a robot busy (running an action, paused, in error) or not: a busy robot never moves and is never pushed; what it holds stays held.</summary>
    /// <exception cref="KeyNotFoundException">The robot was never placed.</exception>
    public void SetBusy(string robotId, bool busy)
    {
        var agent = Get(robotId);
        agent.Busy = busy;
    }

    /// <summary>
    /// A robot reports it reached a waypoint: it gives up everything it held before it. A waypoint it did not hold (it was
    /// somewhere else than traffic control knew) places it there (<see cref="Place(string, string)"/>).
    /// </summary>
    /// <exception cref="KeyNotFoundException">The robot was never placed.</exception>
    /// <exception cref="ArgumentException">The waypoint is not on the map.</exception>
    public void Reached(string robotId, string waypointId)
    {
        var agent = Get(robotId);
        var w = _space.IndexOf(waypointId);
        var k = agent.Path.IndexOf(w);
        if (k == 0)
            return;
        if (k < 0)
        {
            Place(robotId, waypointId);
            return;
        }

        for (var i = 0; i < k; i++)
        {
            Free(agent.Path[i], agent);
            Free(SegmentBetween(agent.Path[i], agent.Path[i + 1]), agent);
        }

        agent.Path.RemoveRange(0, k);
        if (_owner[w] == -1)
            _owner[w] = agent.Index; // placed on an already-held waypoint and now past it
    }

    /// <summary>
    /// Takes back the last <paramref name="waypointCount"/> waypoints released to a robot, for a caller that could not send
    /// them (the robot never heard of them): they and their lanes are free again. Never takes back the waypoint it stands on.
    /// </summary>
    /// <exception cref="KeyNotFoundException">The robot was never placed.</exception>
    public void Unrelease(string robotId, int waypointCount)
    {
        var agent = Get(robotId);
        if (agent.Plan is not null && waypointCount > 0)
            EndPlan(agent.Plan);
        for (var i = 0; i < waypointCount && agent.Path.Count > 1; i++)
        {
            Free(agent.Path[^1], agent);
            Free(SegmentBetween(agent.Path[^2], agent.Path[^1]), agent);
            agent.Path.RemoveAt(agent.Path.Count - 1);
        }
    }

    /// <summary>
    /// Closes a lane (operator or perception): nothing more is released over it; what is already released stays (a robot on
    /// it drives on). A last-resort lane closed again this way is one no longer (<see cref="SetLastResortLanes"/>).
    /// </summary>
    /// <exception cref="ArgumentException">The lane is not on the map.</exception>
    public void CloseLane(string laneId)
    {
        var lane = _space.LaneIndexOf(laneId);
        _lastResort.Remove(lane);
        if (_closed.Add(lane))
            _closures++;
    }

    /// <summary>
    /// Sets the passing lanes (replacing the last set): lanes a robot may drive only to make way for another (pushed, or
    /// making way of its own accord), never on its own way to its goal; travel times to goals leave them out. On a loop
    /// driven one way round they let the robot on a spur's mouth back up one waypoint for the robot coming out of the spur
    /// (see <see cref="OneWayLoopBlocks.Passing"/>). A lane also closed with <see cref="CloseLane"/> is closed. Not
    /// thread-safe (like the rest of the controller: one caller at a time).
    /// </summary>
    /// <param name="laneIds">Lane ids; empty for none.</param>
    /// <exception cref="ArgumentException">A lane is not on the map.</exception>
    public void SetPassingLanes(IEnumerable<string> laneIds)
    {
        ArgumentNullException.ThrowIfNull(laneIds);
        var lanes = laneIds.Select(_space.LaneIndexOf).ToHashSet();
        if (lanes.SetEquals(_passing))
            return;
        _passing.Clear();
        _passing.UnionWith(lanes);
        _closures++;
    }

    /// <summary>
    /// Sets the last-resort lanes (replacing the last set): of the lanes closed with <see cref="CloseLane"/>, those closed
    /// by a traffic rule rather than by an obstacle, which a jam plan may drive for a robot that has stood still for
    /// <see cref="PibtTrafficOptions.JamLastResortAfterSeconds"/> when no plan without them is found; nothing else drives
    /// them. On a loop driven one way round: the lanes against the loop (<see cref="OneWayLoopBlocks.Against"/> but the
    /// passing lanes). A lane not closed is unaffected; one closed again with <see cref="CloseLane"/> afterwards (by an
    /// obstacle) drops out of the set, so set the lanes after closing them. Not thread-safe (one caller at a time).
    /// </summary>
    /// <param name="laneIds">Lane ids; empty for none.</param>
    /// <exception cref="ArgumentNullException"><paramref name="laneIds"/> is null.</exception>
    /// <exception cref="ArgumentException">A lane is not on the map.</exception>
    public void SetLastResortLanes(IEnumerable<string> laneIds)
    {
        ArgumentNullException.ThrowIfNull(laneIds);
        var lanes = laneIds.Select(_space.LaneIndexOf).ToHashSet();
        _lastResort.Clear();
        _lastResort.UnionWith(lanes);
    }

    /// <summary>Opens a lane closed with <see cref="CloseLane"/>.</summary>
    /// <exception cref="ArgumentException">The lane is not on the map.</exception>
    public void OpenLane(string laneId)
    {
        if (_closed.Remove(_space.LaneIndexOf(laneId)))
            _closures++;
    }

    /// <summary>The waypoint ids a robot holds: the last one it reached, then what is released ahead of it.</summary>
    /// <exception cref="KeyNotFoundException">The robot was never placed.</exception>
    public IReadOnlyList<string> Held(string robotId) => Get(robotId).Path.Select(_space.WaypointId).ToList();

    /// <summary>How many waypoints a robot holds (<see cref="Held"/>'s count, without building the list).</summary>
    /// <exception cref="KeyNotFoundException">The robot was never placed.</exception>
    public int HeldCount(string robotId) => Get(robotId).Path.Count;

    /// <summary>
    /// The robot the jam plan (<see cref="PibtTrafficOptions.ResolveJamAfterSeconds"/>) a robot is moving in was made for:
    /// itself when it is the stuck robot, another when it makes way in that robot's plan; null when it is in none.
    /// </summary>
    /// <exception cref="KeyNotFoundException">The robot was never placed.</exception>
    public string? JamPlanFor(string robotId) => Get(robotId).Plan?.Stuck.Id;

    /// <summary>The waypoint a robot waits to be released onto (its claim), or null.</summary>
    /// <exception cref="KeyNotFoundException">The robot was never placed.</exception>
    public string? Claim(string robotId) => Get(robotId).ClaimWaypoint is var c and >= 0 ? _space.WaypointId(c) : null;

    /// <summary>
    /// Why a robot stands where it is, in words, for operators and logs: each way out of its waypoint with the travel time to
    /// its goal from there and what keeps it from being released (closed, claimed, held or too close to a robot, a lift not
    /// on its way).
    /// </summary>
    /// <exception cref="KeyNotFoundException">The robot was never placed.</exception>
    public string Explain(string robotId)
    {
        var agent = Get(robotId);
        var u = agent.Path[0];
        var times = agent.Target >= 0 ? Times(agent) : null;
        var parts = new List<string>();
        var listed = new HashSet<int>();
        for (var k = _space.OutStart[u]; k < _space.OutStart[u + 1]; k++)
        {
            var lane = _space.OutLanes[k];
            var v = _space.LaneTo[lane];
            if (!listed.Add(v))
                continue; // two lanes to one waypoint (nav graphs of several fleets merged): one way out
            var segment = _space.LaneResource[lane];
            string why;
            if (_closed.Contains(lane))
                why = "lane closed";
            else if (_claimer[v] is var c and >= 0 && c != agent.Index)
                why = $"claimed by {_agents[c].Id}";
            else if (_claimer[segment] is var cs and >= 0 && cs != agent.Index)
                why = $"lane claimed by {_agents[cs].Id}";
            else if (ClaimedNear(v, agent))
                why = "next to a claimed place";
            else if (Blockers(v, segment, agent) is { Count: > 0 } blockers)
                why = "held by or too close to " + string.Join(", ", blockers.Select(b => $"{b.Id} ({(b.Busy ? "busy" : b.Path.Count > 1 ? "driving" : b.ClaimWaypoint >= 0 ? "waiting" : "standing")})"));
            else
                why = "free";
            var time = times is null ? "" : $", {TimeText(times[v], "goal")}";
            parts.Add($"{_space.WaypointId(v)}{time}: {(_passing.Contains(lane) && !_closed.Contains(lane) ? "passing lane (only to make way), " : "")}{why}");
        }

        var own = times is null ? "no goal" : TimeText(times[u], $"{(agent.Goal >= 0 ? "goal" : "leave the dead end for another robot, via")} {_space.WaypointId(agent.Target)}");
        if (agent.ClaimWaypoint >= 0)
        {
            var waiting = new List<string>();
            foreach (var r in _space.Conflicts[agent.ClaimWaypoint].Concat(_space.Conflicts[agent.ClaimSegment]).Append(agent.ClaimWaypoint).Append(agent.ClaimSegment).Distinct())
            {
                if (_owner[r] is var o and >= 0 && o != agent.Index)
                    waiting.Add($"{_agents[o].Id} ({(_agents[o].Busy ? "busy" : _agents[o].Path.Count > 1 ? "driving" : _agents[o].ClaimWaypoint >= 0 ? "waiting" : "standing")} at {_space.WaypointId(_agents[o].Path[0])})");
            }

            own += $"; its claim for {_now - agent.ClaimSince:0.#} s waits for {(waiting.Count == 0 ? "nobody" : string.Join(", ", waiting.Distinct()))}";
        }

        if (agent.Path.Count > 1)
            own += "; released on to " + string.Join(" ", agent.Path.Skip(1).Select(_space.WaypointId));
        if (agent.LeavingChain >= 0)
            own += $"; held up heading out of a dead-end corridor, goes first out to {_space.WaypointId(agent.LeavingChain)}";
        if (agent.Plan is { } plan)
            own += $"; in a jam plan for {plan.Stuck.Id}, {plan.Next} of {plan.Moves.Count} moves released";
        if (agent.FarFrom >= 0 && _now - agent.FarSince <= _options.FarMoveWaitSeconds)
            own += $"; waits {_options.FarMoveWaitSeconds - (_now - agent.FarSince):0} s more for a way back to {_space.WaypointId(agent.FarFrom)}";
        return $"{agent.Id} at {_space.WaypointId(u)} ({own}{(agent.Busy ? ", busy" : "")}{(agent.ClaimWaypoint >= 0 ? $", claims {_space.WaypointId(agent.ClaimWaypoint)}" : "")}): " +
               (parts.Count == 0 ? "no lane out" : string.Join("; ", parts));
    }

    /// <summary>
    /// The robots that have a goal (or a dead-end spur to leave for another robot) and have stood still, not busy, for at
    /// least <paramref name="seconds"/> (of the clock given to <see cref="Step"/>) as of the last step, with how long, waiting
    /// on a claim included; for operators' logs next to <see cref="Explain"/>.
    /// </summary>
    public IReadOnlyList<(string RobotId, double Seconds)> StandingLongerThan(double seconds) =>
        _agents.Where(a => !a.Removed && !double.IsNaN(a.StillSince) && _now - a.StillSince >= seconds)
            .Select(a => (a.Id, _now - a.StillSince)).ToList();

    /// <summary>
    /// The robots (other than <paramref name="robotId"/>) holding a waypoint, anything too close to it, or the lane to it
    /// from where the robot stands: what keeps it from being released to the robot. Empty when nothing does.
    /// </summary>
    /// <exception cref="KeyNotFoundException">The robot was never placed.</exception>
    /// <exception cref="ArgumentException">The waypoint is not on the map.</exception>
    public IReadOnlyList<string> HoldersInTheWay(string robotId, string waypointId)
    {
        var agent = Get(robotId);
        var v = _space.IndexOf(waypointId);
        var segment = SegmentBetween(agent.Path[0], v);
        var found = new List<string>();
        foreach (var resource in segment >= 0 ? new[] { v, segment } : [v])
        {
            foreach (var r in _space.HardConflicts[resource].Concat(SpurPartsFor(resource, agent)).Append(resource))
            {
                if (_owner[r] is var o and >= 0 && o != agent.Index && !found.Contains(_agents[o].Id))
                    found.Add(_agents[o].Id);
            }
        }

        return found;
    }

    /// <summary>The robot holding a waypoint, or null.</summary>
    public string? HolderOf(string waypointId) => _owner[_space.IndexOf(waypointId)] is var o and >= 0 ? _agents[o].Id : null;

    /// <summary>
    /// Fastest travel time in seconds from a waypoint to a robot's goal with the current closures, lanes against a loop's flow
    /// counted <see cref="LoopFlowWeight"/> times (the times the controller decides by, and <see cref="Explain"/> shows);
    /// +infinity when unreachable, 0 without a goal.
    /// </summary>
    public double TimeToGoal(string robotId, string waypointId)
    {
        var agent = Get(robotId);
        return agent.Goal < 0 ? 0 : Times(agent)[_space.IndexOf(waypointId)];
    }

    /// <summary>
    /// One decision round: grants claims that have become clear, lets every robot standing at the end of what it holds decide
    /// (PIBT, highest priority first), then extends moving robots' ways along their fastest routes while free.
    /// </summary>
    /// <returns>What was released to whom in this step.</returns>
    /// <param name="nowSeconds">The caller's clock in seconds (any origin, never going back), for <see cref="PibtTrafficOptions.MakeWayAfterSeconds"/>; null counts 0.25 s a step.</param>
    public IReadOnlyList<TrafficRelease> Step(double? nowSeconds = null)
    {
        _step++;
        _now = nowSeconds ?? _step * 0.25;
        UpdateStranded();
        EvacuateSpurs();
        foreach (var agent in _agents)
        {
            // Standing still, deciding or waiting on a claim (the robot does not move either way): for operators, and for
            // making way (a claim renewed after each timeout must not keep a robot from ever making way).
            var still = !agent.Removed && !agent.Busy && agent.Path.Count == 1 && agent.Target >= 0 && agent.Target != agent.Path[0];
            agent.StillSince = !still ? double.NaN : double.IsNaN(agent.StillSince) ? _now : agent.StillSince;
            if (!still || agent.Path[0] != agent.StoodAt)
                (agent.StoodAt, agent.StoodSince) = (still ? agent.Path[0] : -1, still ? _now : double.NaN);
            TrackProgress(agent);
            NoteLeavingChain(agent);
        }

        var before = new int[_agents.Count];
        var detour = new bool[_agents.Count];
        foreach (var agent in _agents)
        {
            before[agent.Index] = agent.Path.Count;
            agent.Decided = false;
        }

        RunPlans(detour);
        GrantClaims(detour);
        ResolveJam(detour);
        GivePrecedence();
        var deciding = _agents.Where(IsFree).OrderByDescending(Rank).ThenByDescending(Priority).ThenBy(a => a.Index).ToList();
        foreach (var agent in _agents)
            agent.Decided = !IsFree(agent);
        foreach (var agent in deciding)
        {
            if (!agent.Decided)
                Decide(agent, null, detour);
        }

        foreach (var agent in _agents)
        {
            if (!agent.Removed && !agent.Busy && agent.ClaimWaypoint < 0 && agent.Path.Count > 0 && agent.Plan is null && !WaitsToReturn(agent))
                Extend(agent);
        }

        var releases = new List<TrafficRelease>();
        foreach (var agent in _agents)
        {
            if (agent.Path.Count > before[agent.Index] && before[agent.Index] > 0)
                releases.Add(new TrafficRelease(agent.Id, agent.Path.Skip(before[agent.Index]).Select(_space.WaypointId).ToList(), detour[agent.Index]));
        }

        return releases;
    }

    /// <summary>
    /// A robot without a goal standing in a dead-end spur that another robot's goal lies in, or that a robot could not push
    /// out of its way, or that keeps a robot from passing the spur's mouth (<see cref="KeepsMouthShut"/>), leaves it for the
    /// spur's mouth (from where the robot that wants past pushes it on, like any idle robot in its way): PIBT cannot swap
    /// the two, since the only way out is the waypoint the other robot waits for, and the make-way rule needs a robot that
    /// wants to get somewhere.
    /// </summary>
    private void EvacuateSpurs()
    {
        HashSet<int>? wanted = null;
        foreach (var agent in _agents)
        {
            if (agent.Removed || agent.Goal >= 0 || agent.Path.Count == 0)
            {
                agent.Evacuate = -1;
                agent.EvacuateAsked = -1;
                continue;
            }

            var spur = _space.BranchOf[agent.Path[0]];
            if (spur >= 0 && !_space.SpurArray[spur] && agent.EvacuateAsked == spur && agent.Path[0] != agent.Evacuate)
            {
                // A dead-end chain inside a wing: out to where the way forks, asked only (a wing's waypoints are many
                // robots' goals), and over once there.
                if (agent.Evacuate < 0 && _space.ChainExit[agent.Path[0]] is var exit and >= 0)
                {
                    agent.Evacuate = exit;
                    agent.EvacuateSince = _step;
                }

                if (agent.Evacuate >= 0)
                    continue;
            }

            if (spur < 0 || !_space.SpurArray[spur])
            {
                agent.Evacuate = -1;
                agent.EvacuateAsked = -1;
                continue;
            }

            wanted ??= _agents.Where(a => !a.Removed && a.Goal >= 0 && _space.BranchOf[a.Goal] >= 0).Select(a => _space.BranchOf[a.Goal]).ToHashSet();
            if (!wanted.Contains(spur) && agent.EvacuateAsked != spur)
            {
                agent.Evacuate = -1;
            }
            else if (agent.Evacuate < 0)
            {
                agent.Evacuate = _space.BranchMouth[spur];
                agent.EvacuateSince = _step;
            }
        }
    }

    /// <summary>
    /// Marks a robot boxed in at the closed end of a dead-end chain inside a wing (a room at the end of a hotel corridor,
    /// robots queued behind it to go in): one that heads out of the chain, two lanes or more from its fork, and has stood
    /// still for <see cref="PibtTrafficOptions.MakeWayAfterSeconds"/>. It then goes first (<see cref="Rank"/> 2, as a robot
    /// leaving a spur) until it is out at the fork, pushing the queue back: the robots behind it cannot pass it, and PIBT's
    /// own order may have the one at the tail of the queue decide first and stay, the queue's push failing at the boxed-in
    /// robot every step (regression: hotel, four robots queued for <c>L2_master_suite</c> while one in it wanted out).
    /// </summary>
    private void NoteLeavingChain(Agent agent)
    {
        var exit = agent.Removed || agent.Target < 0 || agent.Path.Count == 0 ? -1 : _space.ChainExit[agent.Path[0]];
        if (exit < 0 || !(Times(agent) is var times && times[exit] < times[agent.Path[0]])
            || agent.LeavingChain >= 0 && agent.LeavingChain != exit)
            agent.LeavingChain = -1; // out, heading in, or placed in another chain
        else if (agent.LeavingChain < 0 && _space.ChainExitHops[agent.Path[0]] >= 2
                 && !double.IsNaN(agent.StillSince) && _now - agent.StillSince >= _options.MakeWayAfterSeconds)
            agent.LeavingChain = exit;
    }

    /// <summary>
    /// Keeps the time since a robot last came nearer its target than ever before (since it got that target): what the jam
    /// fallback waits on, so that robots pushed back and forth without getting anywhere count as jammed, not only robots
    /// standing still.
    /// </summary>
    private void TrackProgress(Agent agent)
    {
        if ((_options.ResolveJamAfterSeconds <= 0 && _options.PrecedenceAfterSeconds <= 0) || agent.Removed || agent.Target < 0 || agent.Path.Count == 0 || agent.Busy)
        {
            agent.ProgressTarget = -1;
            agent.ProgressSince = double.NaN;
            return;
        }

        var time = Times(agent)[agent.Path[0]];
        if (agent.ProgressTarget != agent.Target || time < agent.BestTime - 1e-3)
        {
            agent.ProgressTarget = agent.Target;
            agent.BestTime = time;
            agent.ProgressSince = _now;
        }
    }

    /// <summary>
    /// Picks the robots that take precedence this step: those with a goal that have gone
    /// <see cref="PibtTrafficOptions.PrecedenceAfterSeconds"/> or more without progress, the longest first, at most
    /// <see cref="PibtTrafficOptions.PrecedenceShare"/> of the fleet. A robot that keeps losing head-on meetings (pushed
    /// round a loop each time) otherwise never gets nearer its goal: PIBT's priority grows with the time since a goal was
    /// given, the same for a robot that drove well and one that was pushed about. Its priority then lies above every
    /// robot's without precedence, so PIBT's guarantees hold as for any priority order.
    /// </summary>
    private void GivePrecedence()
    {
        _precedenceBefore = double.NegativeInfinity;
        if (_options.PrecedenceAfterSeconds <= 0)
            return;
        var most = Math.Max(1, (int)(_agents.Count * _options.PrecedenceShare));
        var waiting = new List<double>();
        foreach (var agent in _agents)
        {
            // A robot standing on its goal is not held up (Rank gives it none): it takes no place of the share.
            if (!agent.Removed && agent.Goal >= 0 && agent.Path.Count > 0 && agent.Path[0] != agent.Goal && !double.IsNaN(agent.ProgressSince)
                && _now - agent.ProgressSince >= _options.PrecedenceAfterSeconds)
                waiting.Add(agent.ProgressSince);
        }

        if (waiting.Count == 0)
            return;
        waiting.Sort();
        _precedenceBefore = waiting[Math.Min(most, waiting.Count) - 1];
    }

    private bool IsFree(Agent agent) => !agent.Removed && !agent.Busy && agent.Path.Count == 1 && agent.ClaimWaypoint < 0 && agent.Plan is null;

    /// <summary>
    /// The class a deciding robot is ordered by before its <see cref="Priority"/>: 2 for a robot leaving a dead-end spur (it
    /// goes before everyone: it can only come out one way, and robots waiting to go in or passing by must make room for it,
    /// not it for them) or boxed in at the end of a dead-end chain (<see cref="NoteLeavingChain"/>), 1 for a robot picked
    /// by <see cref="GivePrecedence"/>, else 0.
    /// </summary>
    private int Rank(Agent agent)
    {
        if (agent.Target < 0 || agent.Target == agent.Path[0])
            return 0;
        var spur = _space.BranchOf[agent.Path[0]];
        if (spur >= 0 && _space.SpurArray[spur] && _space.BranchOf[agent.Target] != spur)
            return 2;
        if (agent.LeavingChain >= 0)
            return 2;
        return agent.Goal >= 0 && agent.ProgressSince <= _precedenceBefore ? 1 : 0;
    }

    /// <summary>
    /// PIBT's dynamic priority within a <see cref="Rank"/>: steps since the robot got its goal (plus a tie-break below 1);
    /// below 0 without a goal or at it. Among the robots with precedence (rank 1), seconds without progress instead: the
    /// longest first.
    /// </summary>
    private double Priority(Agent agent)
    {
        if (agent.Target < 0 || agent.Target == agent.Path[0])
            return agent.Tie - 1;
        if (Rank(agent) == 1)
            return _now - agent.ProgressSince + (agent.Tie * 1e-3);
        if (agent.LeavingChain >= 0)
            return 1e9 - _space.ChainExitHops[agent.Path[0]] + agent.Tie; // nearest its fork first: a queue leaves front first
        return (_step - (agent.Goal >= 0 ? agent.GoalSince : agent.EvacuateSince)) + agent.Tie;
    }

    private void GrantClaims(bool[] detour)
    {
        foreach (var agent in _agents)
        {
            if (agent.ClaimWaypoint < 0 || agent.Plan is not null)
                continue;
            // A busy robot moves nowhere: a claim it made before (a robot lost while it waited) is not granted later, which
            // released a waypoint to a robot out of reach (regression: after an MQTT broker restart the control plane sent
            // an update of an order it had already cancelled; the robot got it on reconnecting and drove on).
            if (agent.Busy)
            {
                DropClaim(agent);
                continue;
            }

            // A claim on a place a stranded robot holds (or stands too close to) is not granted before a person acts: dropped,
            // the robot decides again in times that go round it (regression: a robot that had claimed the waypoint of a robot
            // then lost kept the claim, and its mission was given up after 20 s while the way round stood open).
            if (_strandedAt.Contains(agent.ClaimWaypoint) && agent.ClaimWaypoint != agent.Target)
            {
                DropClaim(agent);
                continue;
            }

            var v = agent.ClaimWaypoint;
            var lane = _space.LaneBetween(agent.Path[^1], v);
            if (lane < 0 || _closed.Contains(lane) || _now - agent.ClaimSince > _options.ClaimTimeoutSeconds)
            {
                DropClaim(agent);
                continue;
            }

            // The rule that keeps robots off the mouth of a spur another robot is in holds when the claim is granted too: the
            // claim was made while the robot ahead stood on the mouth (often pushing it on into the spur; regression: the airport
            // terminal one way round, seed 89, a robot bound for s15_0 took the mouth s15_1 as the robot ahead of it went in,
            // stood in its way out when it came back, and was sent round the terminal).
            if (agent.Target >= 0 && WaitsAtMouth(agent, v, Times(agent)))
            {
                DropClaim(agent);
                // A robot claiming the waypoint it stands on (one that pushed it, say) decides again too, instead of waiting out
                // the claim timeout for a robot that now stays.
                if (_claimer[agent.Path[^1]] is var pusher and >= 0)
                    DropClaim(_agents[pusher]);
                continue;
            }

            var segment = _space.LaneResource[lane];
            if (_owner[v] != -1 || _owner[segment] != -1 || Blocked(v, agent, -1) || Blocked(segment, agent, -1))
            {
                // The waypoint and lane are left, but every robot still in the way stands free to decide in conflict
                // with them: it drove the move it was pushed to and stopped there, too close to the waypoint claimed (the
                // only way off was next to it). Waiting would last until the claim timeout (it decides to stay, the
                // claimed waypoint being its best and taken): the claim is dropped and the robot decides again, pushing it
                // on, now only to a place clear of the claimed waypoint (ClaimedNear). Regression: the office map, where
                // a robot pushed from L1_v46 to patrol_C (0.7 m apart) wanted back through L1_v46 and the two stood for
                // the 30 s claim timeout.
                if (_owner[v] == -1 && _owner[segment] == -1 && Blockers(v, segment, agent) is { Count: > 0 } inTheWay && inTheWay.All(IsFree))
                    DropClaim(agent);
                continue;
            }

            DropClaim(agent);
            Take(agent, v, segment);
            detour[agent.Index] |= agent.ClaimDetour;
        }
    }

    /// <summary>
    /// Releases the next moves of the jam plans in order, each once nothing conflicting with it is held by another robot
    /// (the next move waiting is claimed, so robots outside the plan leave it clear); ends a plan when its last move is
    /// released, when its next move has waited <see cref="PibtTrafficOptions.JamPlanPatienceSeconds"/>, or when its next
    /// move takes a robot along its own way onto the mouth of a wing another robot is coming out of (<see cref="WaitsAtWingMouth"/>).
    /// </summary>
    private void RunPlans(bool[] detour)
    {
        if (_plans.Count == 0)
            return;
        foreach (var plan in _plans.OrderBy(p => p.Robots.Min(r => r.Index)).ToArray()) // by robot number, deterministic
        {
            while (plan.Next < plan.Moves.Count)
            {
                var (agent, from, to, lane) = plan.Moves[plan.Next];
                var segment = _space.LaneResource[lane];
                // A last-resort plan's robots may drive the last-resort and passing lanes, the stuck robot not (nor once its lanes
                // have become last-resort lanes since, when a closure on a loop ended).
                if (agent.Path.Count == 0 || agent.Path[^1] != from || (plan.LastResort && agent != plan.Stuck ? ClosedBeyondLastResort(lane) : _isClosed(lane)))
                {
                    EndPlan(plan); // the robot is not where the plan expects it (or the lane closed, or became a passing lane): PIBT takes over again
                    break;
                }

                // A busy robot (opening a door on the plan's way, say) goes on with the plan once done; one busy for longer
                // than the patience (paused, in error) ends it. Regression: a plan ended as soon as its robot got busy, so
                // a robot that had to open a door on the way went back and forth through the door for good.
                if (agent.Busy)
                {
                    if (PatienceRunOut(plan))
                        EndPlan(plan);
                    break;
                }

                // The rule that keeps a robot off the mouth of a wing another robot is coming out of (WaitsAtMouth) holds for a
                // plan's moves along a robot's own way too, as for claims granted: the search sees only the robots standing
                // round the stuck one, not one driving out towards the mouth, and a plan that moves a robot onto the mouth puts
                // the two face to face there. The plan ends; the robot waits off the mouth (regression: the airport terminal as
                // drawn, seed 64, a robot bound for s20 moved onto the wing's mouth L1_v691 by a jam plan while a
                // robot came out of the wing towards it: the start-up jam round L1_v690 that followed stalled two robots).
                if (agent.Target >= 0 && Times(agent) is var own && own[to] < own[from] && WaitsAtWingMouth(agent, to, own))
                {
                    EndPlan(plan);
                    break;
                }

                // Back over what it still holds (a plan may send a robot there and back): not before it has reached the
                // turn, else reaching it would give up the waypoint or lane it comes back over while it still needs them.
                if (agent.Path.Contains(to) || _owner[segment] == agent.Index)
                    break; // waits on its own robot, which drives on: no patience spent
                // No further ahead than the horizon (as Extend): a plan that sends a robot a long way round must not hold
                // the whole way for the minute it drives it (regression: the clinic, where a robot held 21 waypoints of a
                // loop ending beside two waiting robots, and they stood for two minutes).
                if (agent.Path.Count - 1 >= _options.HorizonWaypoints || AheadMetres(agent) >= _options.HorizonMetres)
                    break; // waits on its own robot, which drives on: no patience spent

                if (HeldByAnother(to, agent) || HeldByAnother(segment, agent))
                {
                    var runOut = PatienceRunOut(plan);
                    // The robot in the way stands outside the plan and wants through a waypoint one of the plan's robots
                    // stands on (which it cannot push): the two would wait on each other until the patience runs out
                    // (regression: the clinic, where that stood the plan's robots still for two minutes).
                    var circular = _owner[to] is var o and >= 0 && _agents[o].Plan is null && plan.Robots.Any(r => r.Path.Count > 0 && WantsThrough(_agents[o], r.Path[^1]));
                    if (circular || runOut)
                    {
                        EndPlan(plan);
                        break;
                    }

                    if (agent.ClaimWaypoint != to && _claimer[to] == -1 && _claimer[segment] == -1)
                    {
                        DropClaim(agent);
                        SetClaim(agent, to, segment, true);
                    }

                    break;
                }

                DropClaim(agent);
                Take(agent, to, segment);
                detour[agent.Index] = true;
                plan.Next++;
                plan.BlockedSince = double.NaN;
            }

            if (plan.Next >= plan.Moves.Count)
                EndPlan(plan);
            else
                FreeFinished(plan);
        }
    }

    /// <summary>
    /// Lets the robots of a plan decide again once every move left is one robot's: the others have made room and would
    /// otherwise stand by, without progress, for as long as that robot drives its way out (within the horizon, move by move).
    /// </summary>
    private void FreeFinished(JamPlan plan)
    {
        var last = plan.Moves[plan.Next].Agent;
        for (var i = plan.Next + 1; i < plan.Moves.Count; i++)
        {
            if (plan.Moves[i].Agent != last)
                return;
        }

        foreach (var agent in plan.Robots)
        {
            if (agent != last && agent.Plan == plan)
            {
                agent.Plan = null;
                DropClaim(agent);
            }
        }

        plan.Robots.RemoveAll(a => a != last);
    }

    /// <summary>Starts the plan's clock of waiting (when not running) and tells whether it has waited longer than <see cref="PibtTrafficOptions.JamPlanPatienceSeconds"/>.</summary>
    private bool PatienceRunOut(JamPlan plan)
    {
        if (double.IsNaN(plan.BlockedSince))
            plan.BlockedSince = _now;
        return _now - plan.BlockedSince > _options.JamPlanPatienceSeconds;
    }

    /// <summary>True when the resource or one conflicting with it (geometry, lift, door) is held by a robot other than <paramref name="agent"/>.</summary>
    private bool HeldByAnother(int resource, Agent agent)
    {
        if (_owner[resource] is var o and >= 0 && o != agent.Index)
            return true;
        foreach (var r in _space.HardConflicts[resource])
        {
            if (_owner[r] is var o2 and >= 0 && o2 != agent.Index)
                return true;
        }

        return false;
    }

    private void EndPlan(JamPlan plan)
    {
        _plans.Remove(plan);
        foreach (var agent in plan.Robots)
        {
            if (agent.Plan == plan)
            {
                agent.Plan = null;
                DropClaim(agent);
            }
        }

        plan.Next = plan.Moves.Count;
    }

    /// <summary>
    /// The jam fallback: of the robots standing now that have gone at least <see cref="PibtTrafficOptions.ResolveJamAfterSeconds"/>
    /// without progress (<see cref="TrackProgress"/>; and not searched for in the last third of that), the one without
    /// progress longest gets a <see cref="JointSearch"/> over the nearest robots standing within
    /// <see cref="PibtTrafficOptions.JamRadiusHops"/> of it, every other robot held fixed where it holds; robots held up
    /// themselves (<see cref="PibtTrafficOptions.JamSparesAfterSeconds"/>) are held fixed too, and those of them that have gone
    /// no longer without progress than the stuck robot are searched with only when that finds nothing and the stuck robot has
    /// waited <see cref="PibtTrafficOptions.JamSparesUntilSeconds"/> (at once where the search can take every robot in the
    /// radius, all of them spared, and every lane leaving a waypoint in the radius has a lane back, see
    /// <see cref="PibtTrafficOptions.JamSparesNotOnTwoWayLanes"/>). A plan found
    /// is released move by move (<see cref="RunPlans"/>); its robots stand by for PIBT meanwhile. One robot searched for a
    /// step at most (at most two passes, the second with robots held up themselves, and after the last two more searches
    /// at most, with lift rides and with the last-resort lanes open); it runs before PIBT decides, while the robots round it stand. A robot waiting
    /// short of the mouth of a spur (<see cref="WaitsAtMouth"/>) whose robot is busy there or driving (<see cref="SpurInUse"/>)
    /// is not searched for: it waits for that robot. Where the last pass finds nothing and the stuck robot has stood still
    /// (not left its waypoint) for <see cref="PibtTrafficOptions.JamLastResortAfterSeconds"/>, it is searched once more with
    /// the last-resort and passing lanes open to the other robots (<see cref="SetLastResortLanes"/>). The other robots ride
    /// a lift only on their own way (to a stop with a lower time to their goal), not to make way (the stuck robot may ride
    /// either way), until the stuck robot has gone <see cref="PibtTrafficOptions.JamLastResortAfterSeconds"/> without
    /// progress and no plan is found without such rides: a robot sent up a floor to clear a lift's door comes back by the
    /// lift, and on the clinic such plans kept robots that had just ridden down from their goals for minutes; but where the
    /// robot at the door cannot back away, the one in the lift must ride back (with such rides never made, the clinic one
    /// way round locked up for good through the coordinator, seed 9; twenty-fifth session). Where the stuck robot's goal lies
    /// in a dead-end spur it is not in, the other robots do not drive into that spur, nor on in it away from its mouth: parked
    /// there they could only come out through its mouth, past the stuck robot (measured on the airport terminal as drawn, 50
    /// robots, 1 h, seeds 1 to 100: robots 2 minutes without progress 3 → 2, seed 27's gone; thirty-third session).
    /// </summary>
    private void ResolveJam(bool[] detour)
    {
        if (_options.ResolveJamAfterSeconds <= 0)
            return;
        Agent? stuck = null;
        foreach (var agent in _agents)
        {
            // A robot waiting to return to where a far move took it from (WaitsToReturn) is searched for at once, and again
            // every second, before any robot merely long without progress: its way back closes as soon as traffic fills it.
            var returning = WaitsToReturn(agent);
            if (agent.Removed || agent.Busy || agent.Plan is not null || agent.Path.Count != 1 || _owner[agent.Path[0]] != agent.Index
                || !double.IsNaN(agent.LastJamSearch) && _now - agent.LastJamSearch < (returning ? ReturnSearchEverySeconds : _options.ResolveJamAfterSeconds / 3))
                continue;
            if (returning)
            {
                if (stuck is null || !WaitsToReturn(stuck))
                    stuck = agent;
                continue;
            }

            if (double.IsNaN(agent.ProgressSince) || _now - agent.ProgressSince < _options.ResolveJamAfterSeconds || stuck is not null && WaitsToReturn(stuck))
                continue;
            // One waiting short of the mouth of a spur another robot is in (WaitsAtMouth) while that robot is busy there or
            // drives waits for it, not in a jam: a plan would move it onto the mouth, into that robot's way out (regression:
            // the airport terminal one way round, seed 89, a robot bound for s15_0 planned onto the mouth s15_1 and sent round
            // the terminal from there). One standing still in the spur may need the plan (the office one way round locked up
            // in 7 of 30 half-hours when every such wait was spared).
            // Likewise one waiting short of the mouth of a wing a robot is coming out of (WaitsAtWingMouth): its plan would end
            // at its move onto the mouth (RunPlans), every time it was searched for, the moves before it made for nothing.
            if (agent.Target >= 0 && Times(agent) is var times && _space.FastestLaneOut(agent.Path[0], times, _isClosed, _flowWeight) is var next and >= 0
                && (SpurInUse(_space.LaneTo[next], agent, times) && WaitsAtMouth(agent, _space.LaneTo[next], times) || WaitsAtWingMouth(agent, _space.LaneTo[next], times)))
                continue;
            if (stuck is null || agent.ProgressSince < stuck.ProgressSince)
                stuck = agent;
        }

        if (stuck is null)
            return;
        stuck.LastJamSearch = _now;

        // The region: waypoints within the radius, either way along lanes, nearest first.
        var start = stuck.Path[0];
        var hops = new Dictionary<int, int> { [start] = 0 };
        var region = new List<int> { start };
        for (var i = 0; i < region.Count && region.Count < 4096; i++)
        {
            var w = region[i];
            if (hops[w] >= _options.JamRadiusHops)
                continue;
            for (var e = _space.OutStart[w]; e < _space.OutStart[w + 1]; e++)
            {
                var to = _space.LaneTo[_space.OutLanes[e]];
                if (!_closed.Contains(_space.OutLanes[e]) && hops.TryAdd(to, hops[w] + 1))
                    region.Add(to);
            }

            for (var e = _space.InStart[w]; e < _space.InStart[w + 1]; e++)
            {
                var from = _space.LaneFrom[_space.InLanes[e]];
                if (!_closed.Contains(_space.InLanes[e]) && hops.TryAdd(from, hops[w] + 1))
                    region.Add(from);
            }
        }

        // First without the robots that are held up themselves (spared); once the stuck robot has waited
        // JamSparesUntilSeconds, with the spared robots that have not waited longer than it. A spared robot held up longer is never
        // moved for one held up less: that hands the turn its wait has earned (GivePrecedence) to the other robot, and on a
        // grid sends it round a loop again.
        var nearby = _agents.Where(a => a != stuck && !a.Removed && !a.Busy && a.Plan is null && a.Path.Count == 1
            && hops.ContainsKey(a.Path[0]) && _owner[a.Path[0]] == a.Index).OrderBy(a => hops[a.Path[0]]).ThenBy(a => a.Index).ToList();
        var others = Math.Min(_options.JamRobots, JointSearch.MaxRobots) - 1;
        var unspared = nearby.Where(a => !Spared(a)).Take(others).ToList();
        List<List<Agent>> passes = [unspared];
        if ((_now - stuck.ProgressSince >= _options.JamSparesUntilSeconds || _options.JamSparesNotOnTwoWayLanes && unspared.Count == 0 && nearby.Count <= others && region.All(w => _space.TwoWayArray[w]))
            && nearby.Where(a => !Spared(a) || a.ProgressSince >= stuck.ProgressSince).Take(others).ToList() is var wider
            && !wider.SequenceEqual(unspared))
            passes.Add(wider);
        List<Agent> robots = [];
        List<JointSearch.Move>? moves = null;
        var lastResort = false;
        // No other robot of the plan drives ahead of the stuck robot into the dead-end spur its goal lies in (in from outside,
        // or on in it away from the spur's mouth): parked there it would have to come out again through the mouth, pushing
        // the stuck robot off it (regression: the airport terminal as drawn, seed 27, r0048 bound for s15_0 was brought back
        // to the mouth s15_1 by a plan that parked the robot in its way in that spur; that robot came out again, and the
        // plan that let it out sent r0048 round the terminal).
        var stuckTimes = Times(stuck);
        var goalSpur = stuck.Target >= 0 && _space.BranchOf[stuck.Target] is var gs and >= 0 && _space.SpurArray[gs] && _space.BranchOf[stuck.Path[0]] != gs ? gs : -1;
        var toMouth = goalSpur < 0 ? null : TimesTo(_space.BranchMouth[goalSpur]);
        bool AheadIntoGoalSpur(int lane) => _space.BranchOf[_space.LaneTo[lane]] == goalSpur
            && (_space.BranchOf[_space.LaneFrom[lane]] != goalSpur || toMouth![_space.LaneTo[lane]] > toMouth[_space.LaneFrom[lane]]);
        foreach (var helpers in passes)
        {
            robots = [stuck, .. helpers];

            var blocked = new HashSet<int>();
            var occupiedSpurs = new HashSet<int>();
            foreach (var agent in _agents)
            {
                if (agent.Removed || robots.Contains(agent))
                    continue;
                for (var i = 0; i < agent.Path.Count; i++)
                {
                    if (_space.BranchOf[agent.Path[i]] is var spur and >= 0 && _space.SpurArray[spur])
                        occupiedSpurs.Add(spur);
                    Block(agent.Path[i]);
                    if (i > 0 && SegmentBetween(agent.Path[i - 1], agent.Path[i]) is var segment and >= 0)
                        Block(segment);
                }
            }

            void Block(int resource)
            {
                blocked.Add(resource);
                blocked.UnionWith(_space.HardConflicts[resource]);
            }

            // The other robots ride a lift on their own way (to a stop nearer their goal); to make way only for a robot long
            // without progress (below: a robot in the lift with the robot at its door unable to back away rides back).
            var helperTimes = new float[]?[robots.Count];
            var rideRefused = false;
            bool RideToMakeWay(int slot, int lane)
            {
                if (!LiftRide(lane))
                    return false;
                var times = robots[slot].Target < 0 ? null : helperTimes[slot] ??= Times(robots[slot]);
                var refused = times is null || times[_space.LaneTo[lane]] >= times[_space.LaneFrom[lane]];
                rideRefused |= refused;
                return refused;
            }

            List<JointSearch.Move>? Search(Func<int, bool> closed, Func<int, int, bool>? closedToHelper) =>
                JointSearch.Solve(_space, region, robots.Select(a => a.Path[0]).ToArray(), 0, stuckTimes, blocked, closed, _options.JamSearchBudget,
                    clearAhead: 3, occupiedSpurs, closedToStuck: _isClosed,
                    goalSpur < 0 ? closedToHelper : (slot, lane) => AheadIntoGoalSpur(lane) || closedToHelper?.Invoke(slot, lane) == true, _flowWeight,
                    goalTime: WaitsToReturn(stuck) ? stuckTimes[stuck.FarFrom] : null);

            moves = Search(_isClosed, RideToMakeWay);
            if (moves is { Count: > 0 })
                break;
            if (helpers != passes[^1] || _options.JamLastResortAfterSeconds <= 0)
                continue;
            // A robot this long without progress, for which no plan was found, may be got out by robots riding a lift to
            // make way (searched again only where the search above refused such a ride).
            var ridesOpen = _now - stuck.ProgressSince >= _options.JamLastResortAfterSeconds;
            if (rideRefused && ridesOpen)
            {
                moves = Search(_isClosed, null);
                if (moves is { Count: > 0 })
                    break;
            }

            // The last resort: a robot standing still this long, for which no plan was found, may be got out by robots
            // backing up along lanes closed only by a traffic rule (against a one-way loop), and the passing lanes (and
            // riding a lift to make way, as above).
            if (_lastResort.Count > 0 && _now - stuck.StoodSince >= _options.JamLastResortAfterSeconds)
            {
                moves = Search(ClosedBeyondLastResort, ridesOpen ? null : RideToMakeWay);
                lastResort = moves is { Count: > 0 };
            }
        }

        if (moves is null || moves.Count == 0)
            return;
        var at = robots.Select(a => a.Path[0]).ToArray();
        var steps = new List<(Agent Agent, int From, int To, int Lane)>();
        foreach (var (slot, lane) in moves)
        {
            steps.Add((robots[slot], at[slot], _space.LaneTo[lane], lane));
            at[slot] = _space.LaneTo[lane];
        }

        var plan = new JamPlan(stuck, robots, steps) { LastResort = lastResort };
        _plans.Add(plan);
        foreach (var agent in robots)
        {
            DropClaim(agent);
            agent.Plan = plan;
        }

        RunPlans(detour);
    }

    /// <summary>
    /// True when another robot's jam plan leaves this robot where it stands: it has a goal it is not standing on and has gone
    /// <see cref="PibtTrafficOptions.JamSparesAfterSeconds"/> without progress (one waiting on its goal is not held up).
    /// </summary>
    private bool Spared(Agent agent) =>
        _options.JamSparesAfterSeconds > 0 && agent.Goal >= 0 && agent.Path.Count > 0 && agent.Path[0] != agent.Goal
        && !double.IsNaN(agent.ProgressSince) && _now - agent.ProgressSince >= _options.JamSparesAfterSeconds;

    /// <summary>
    /// PIBT's decision for one robot (recursive through the robots it pushes, with <paramref name="rootPrecedence"/>: whether
    /// the robot that started the push holds precedence, see <see cref="PibtTrafficOptions.PushDetourLimitSeconds"/>); true
    /// when it moves or stays by choice.
    /// </summary>
    private bool Decide(Agent agent, Agent? parent, bool[] detour, List<int>? chase = null, bool rootPrecedence = false)
    {
        agent.Decided = true;
        if (parent is null)
            rootPrecedence = Rank(agent) >= 1;
        var u = agent.Path[0];
        var times = agent.Target >= 0 ? Times(agent) : null;
        var parentTimes = times is null && parent is { Target: >= 0 } ? Times(parent) : null;
        var chaseAt = chase?.IndexOf(u) ?? -1;
        var chaseNext = chaseAt >= 0 && chaseAt + 1 < chase!.Count ? chase[chaseAt + 1] : -1;
        var candidates = new List<(int Waypoint, int Lane, double Key, int Busy, ulong Tie)>();
        // Waiting to return, it is pushed off the pusher's way where it can (into a side lane), not along it.
        var offPushersWay = times is not null && parent is { Target: >= 0 } && WaitsToReturn(agent) ? Times(parent) : null;
        if (parent is null)
            candidates.Add((u, -1, times?[u] ?? 0, 0, 0));
        for (var k = _space.OutStart[u]; k < _space.OutStart[u + 1]; k++)
        {
            var lane = _space.OutLanes[k];
            if (_closed.Contains(lane))
                continue;
            var v = _space.LaneTo[lane];
            var refuge = false;
            if (OffWayInto(u, v, times, pushed: parent is not null))
            {
                if (parent is null || !EmptySpurRefuge(u, v, agent, parent))
                    continue;
                refuge = true;
            }

            // A robot without a goal that is pushed prefers a waypoint off the pusher's way (else it is pushed along it).
            // A pushed robot ahead of the pusher on its way is pushed again at every step it retreats along it: a move back
            // along that way costs the retreat to where it can best step aside (see ChaseKey), not one waypoint.
            var key = times is not null ? v == chaseNext && !(times[v] < times[u]) ? ChaseKey(agent, times, chase!, chaseAt + 1) : times[v]
                : parentTimes is not null && parentTimes[v] < parentTimes[parent!.Path[0]] ? 2 : 1;
            if (offPushersWay is not null)
                key = (offPushersWay[v] < offPushersWay[parent!.Path[0]] ? OnPushersWaySeconds : 0) + times![v];
            candidates.Add((v, lane, refuge ? key + SpurRefugeCostSeconds : key, _owner[v] == -1 ? 0 : 1, Mix((ulong)_step, (ulong)agent.Index, (ulong)v)));
        }

        candidates.Sort((a, b) => a.Key != b.Key ? a.Key.CompareTo(b.Key) : a.Busy != b.Busy ? a.Busy.CompareTo(b.Busy) : a.Tie.CompareTo(b.Tie));
        var makeWay = false;
        // Still making way for a robot that follows it (the swap of PIBT+ goes on until the two have passed): the waypoint
        // that robot heads for next is left to it, and it is not pushed back. Over once it no longer follows, or after
        // twice MakeWayAfterSeconds without a move to make way.
        var followerNext = -1;
        if (parent is null && agent.MadeWayFor >= 0)
        {
            var follower = _agents[agent.MadeWayFor];
            // (A busy follower still follows: it opens a door on the way, say.)
            followerNext = follower.Removed || follower.Target < 0 || follower.Path.Count == 0 ? -1
                : _space.FastestLaneOut(follower.Path[^1], Times(follower), _isClosed, _flowWeight) is var next and >= 0 ? _space.LaneTo[next] : -1;
            // It follows: it holds or claims the waypoint this robot left for it, or heads there next and can take it (a robot
            // that cannot follow, e.g. kept off it by geometry, is not waited for).
            var from = agent.MadeWayFrom;
            var followed = follower.Path.Contains(from) || follower.ClaimWaypoint == from || followerNext == from && !_space.ConflictsWith(u, from);
            if (followerNext < 0 || !followed || _now - agent.MadeWaySince > 2 * _options.MakeWayAfterSeconds)
            {
                agent.MadeWayFor = -1;
                followerNext = -1;
            }
        }

        if (parent is null && !makeWay && WaitsToReturn(agent))
            return true; // it waits for its way back (ResolveJam), moving only when pushed
        foreach (var (v, lane, key, _, _) in candidates)
        {
            if (v == u && !makeWay)
                return true; // staying is its best choice
            if (v == u)
                continue; // it makes way instead (below): try the moves worse than staying
            if (parent is not null && v == parent.Path[0])
                continue; // no swap with the robot pushing it
            if (v == followerNext)
                continue; // left to the robot it makes way for
            if (parent is null && !makeWay && _passing.Contains(lane))
                continue; // a passing lane only to make way (pushed, or making way of its own accord)
            if (double.IsPositiveInfinity(key) && parent is null)
                continue; // not towards an unreachable goal unless made to move
            if (parent is not null && !rootPrecedence && times is not null && _options.PushDetourLimitSeconds > 0
                && _options.PrecedenceAfterSeconds > 0 && key - times[u] > _options.PushDetourLimitSeconds)
                continue; // a push that costs it too much, by a robot without precedence
            var segment = _space.LaneResource[lane];
            if (_claimer[segment] != -1 || _owner[segment] is var so and >= 0 && so != agent.Index || ClaimedNear(v, agent, parent))
                continue;
            if (times is not null && WaitsAtMouth(agent, v, times))
                continue;
            // Kept off like a robot moving of its own accord: pushed along a one-way lane, it cannot make room back past its pusher.
            var keptOff = times is not null && (parent is null || PushedOneWay(parent, u));
            if (keptOff && KeepsBackUpFree(agent, v, times!))
                continue;
            if (keptOff && ChainOccupant(agent, v, times!) is { } occupant)
            {
                // The robot in the chain stands still and wants through this robot's waypoint (its way out): this robot steps
                // aside for it, as when making way in a swap, instead of staying (regression: the hotel, seed 53, the two took
                // turns, the other backing into the chain, for good).
                if (parent is null && !makeWay && WantsThrough(occupant, u))
                {
                    makeWay = true;
                    agent.MadeWayFor = occupant.Index;
                }

                continue;
            }

            var onWay = times is not null && times[v] < times[u];
            if (Blockers(v, segment, agent) is not { } blockers)
                continue;
            if (blockers.Count == 0)
            {
                Take(agent, v, segment);
                detour[agent.Index] |= !onWay;
                NoteMove();
                return true;
            }

            // It made way for the robot in the way, which still wants through here: pushing it back would undo the swap and
            // the two would take turns for ever (regression: head-on in a corridor with one pocket, 60 s for two robots). It
            // makes way on instead, into the pocket or back, until the other is past.
            if (parent is null && !makeWay && agent.MadeWayFor >= 0 && blockers.Any(b => b.Index == agent.MadeWayFor))
            {
                makeWay = true;
                continue;
            }

            // Robots in the way: ones driving off with a granted move that ends clear of here are followed; ones standing
            // that have not decided are pushed (they must move first: priority inheritance); anything else rules this out.
            if (blockers.Any(b => !Follows(b, v, segment) && (b.Decided || !IsFree(b))))
            {
                // The same swap situation seen from the other side: the robot in the way has already decided to stay
                // (it could not make room) and wants to come through this robot's waypoint.
                if (parent is null && _now - agent.StillSince >= QuickMakeWay
                    && blockers.FirstOrDefault(b => b.Decided && WantsThrough(b, u)) is { } waiting
                    && _now - agent.StillSince >= MakeWayAfter(agent, waiting))
                {
                    makeWay = true;
                    agent.MadeWayFor = waiting.Index;
                }

                continue;
            }

            SetClaim(agent, v, segment, !onWay);
            var pushedAll = true;
            Agent? swapWith = null;
            // The way the robots pushed from here will be pushed along: the pusher's own way on from here, or the way this
            // robot is pushed along (it retreats ahead of the one that pushes it); none when it steps aside.
            var pushedAlong = parent is null ? WayThrough(agent, u, v) : v == chaseNext ? chase : null;
            foreach (var other in blockers.Where(b => !b.Decided))
            {
                if (!Decide(other, agent, detour, pushedAlong, rootPrecedence) || (other.Path.Count == 1 && other.ClaimWaypoint < 0))
                {
                    pushedAll = false; // backtrack (a robot already pushed keeps its move: it is a legal one)
                    // An idle robot in a dead-end spur can only be pushed out through the spur's mouth, often the very
                    // waypoint claimed from it (a parking place beside a corridor, too close to it to pass): it leaves
                    // for the mouth in the next step, first of all robots, and is pushed on from there.
                    if (other.Goal < 0 && _space.BranchOf[other.Path[0]] is var spur and >= 0
                        && (_space.SpurArray[spur] || _space.ChainExit[other.Path[0]] >= 0))
                        other.EvacuateAsked = spur;
                    // Swap situation (the swap of PIBT+, Okumura, AAMAS 2024): the robot that cannot make room wants to come through this
                    // robot's own waypoint (it is boxed in behind it, e.g. in a dead end). Staying would hold both for ever;
                    // once this robot has stood still long enough (MakeWayAfter, weighed once its claim is dropped) it makes
                    // way instead, and the other follows it.
                    if (parent is null && _now - agent.StillSince >= QuickMakeWay && WantsThrough(other, u))
                        swapWith = other;

                    break;
                }
            }

            if (pushedAll)
            {
                NoteMove();
                return true;
            }

            DropClaim(agent);
            if (swapWith is not null && _now - agent.StillSince >= MakeWayAfter(agent, swapWith))
            {
                makeWay = true;
                agent.MadeWayFor = swapWith.Index;
            }
            // A robot that could not make room (often because its only way out is the very waypoint claimed from it, out of
            // a dead end) decides again on its own later in this step, now that the claim is gone.
            if (parent is null)
            {
                foreach (var other in blockers.Where(b => b.Decided && IsFree(b)))
                    other.Decided = false;
            }
        }

        agent.MadeWayFor = -1; // no way to make: PIBT's order decides again
        return false;

        // A move to make way is remembered (the other robot is expected to follow); any other move ends the making way.
        void NoteMove()
        {
            if (makeWay)
                (agent.MadeWaySince, agent.MadeWayFrom) = (_now, u);
            else
                agent.MadeWayFor = -1;
        }
    }

    /// <summary>
    /// The waypoints a robot pushing from <paramref name="from"/> to <paramref name="to"/> goes on through: those two, then
    /// its fastest route to its target, at most <see cref="ChaseHorizon"/> waypoints; null without a target.
    /// </summary>
    private List<int>? WayThrough(Agent agent, int from, int to)
    {
        if (agent.Target < 0)
            return null;
        var times = Times(agent);
        var way = new List<int>(ChaseHorizon) { from, to };
        while (way.Count < ChaseHorizon && way[^1] != agent.Target && _space.FastestLaneOut(way[^1], times, _isClosed, _flowWeight) is var lane and >= 0)
            way.Add(_space.LaneTo[lane]);
        return way;
    }

    /// <summary>
    /// The key (seconds) of a pushed robot's move onto <c>way[start]</c>, the next waypoint of the way it is pushed along:
    /// it will be pushed on at each step until it can step aside, so the move costs the drive along the way to the best
    /// place to leave it, times <see cref="PibtTrafficOptions.PushedRetreatPace"/> (one waypoint a push), plus the travel
    /// time from the side waypoint it leaves to (or the retreat to its target, when that lies on the way; the retreat and
    /// the drive back when there is no place to leave the way within <see cref="ChaseHorizon"/> waypoints). PIBT leaves
    /// the order of a pushed robot's candidates free (Okumura et al. 2022), so this keeps its guarantees; it stops the
    /// chase in which one robot pushes another back along a whole two-way corridor, one waypoint at a time, because each
    /// single step back was its cheapest move.
    /// </summary>
    private double ChaseKey(Agent agent, float[] times, List<int> way, int start) => ChaseKey(agent, times, way, start, out _);

    /// <summary><see cref="ChaseKey(Agent, float[], List{int}, int)"/>, and whether the way has a place to leave it (or the robot's target) within <see cref="ChaseHorizon"/> waypoints.</summary>
    private double ChaseKey(Agent agent, float[] times, List<int> way, int start, out bool aside)
    {
        var along = 0.0;
        var best = double.PositiveInfinity;
        for (var j = start; j < way.Count; j++)
        {
            var w = way[j];
            if (j > start)
            {
                var lane = _space.LaneBetween(way[j - 1], w);
                if (lane < 0 || _closed.Contains(lane))
                    break; // it cannot be pushed on along this way
                along += _options.PushedRetreatPace * _space.LaneSecondsArray[lane];
            }

            if (w == agent.Target)
            {
                best = Math.Min(best, along);
                break;
            }

            for (var k = _space.OutStart[w]; k < _space.OutStart[w + 1]; k++)
            {
                var lane = _space.OutLanes[k];
                var side = _space.LaneTo[lane];
                if (_closed.Contains(lane) || way.Contains(side) || float.IsPositiveInfinity(times[side]) || OffWayInto(w, side, times, pushed: true))
                    continue;
                best = Math.Min(best, along + _space.LaneSecondsArray[lane] + times[side]);
            }
        }

        aside = !double.IsPositiveInfinity(best);
        return aside ? Math.Max(best, times[way[start]]) : times[way[start]] + ((1 + (1 / _options.PushedRetreatPace)) * along);
    }

    /// <summary>
    /// True when the move from <paramref name="from"/> to <paramref name="to"/> is not on the robot's way to its target
    /// (<paramref name="times"/>; null without one) and enters a lift, or, for a robot being pushed, a dead-end branch: a
    /// lift is entered only on the way to the goal, never to make room, and nobody is pushed into a dead end (only a robot
    /// going to its goal there enters it).
    /// </summary>
    private bool OffWayInto(int from, int to, float[]? times, bool pushed) =>
        (times is null || !(times[to] < times[from]))
        && (_space.LiftArray[to] || (pushed && _space.BranchOf[to] >= 0 && _space.BranchOf[to] != _space.BranchOf[from]));

    /// <summary>
    /// True when a pushed robot may step from <paramref name="from"/> into the dead-end spur of <paramref name="to"/> to make
    /// room, the one exception to "nobody is pushed into a dead end": the robot pushing is coming out of another spur (so
    /// this one stands at or near that spur's mouth, often to go in next), this spur is empty (nobody else holds a waypoint
    /// of it), and the robot pushing does not head into it. The move is priced <see cref="SpurRefugeCostSeconds"/> above its
    /// travel time, so it is taken only in place of a longer retreat: on a one-way loop the other way off may be the whole
    /// loop (regression: airport terminal, seed 65, a robot at a spur's mouth pushed out by the robot leaving the spur sent
    /// round a 380 s loop with an empty charger spur beside it; 794 s without progress). Once in, the robot is one leaving
    /// a spur, which goes first (<see cref="Rank"/>), so it comes out as soon as its way is clear; meanwhile other robots
    /// bound for that spur wait (only the pusher's goal is checked), and a spur that is a dead-end corridor is held whole.
    /// Pushed-robot candidate order is free in PIBT (Okumura et al. 2022), so the reachability argument stands.
    /// </summary>
    private bool EmptySpurRefuge(int from, int to, Agent agent, Agent pusher)
    {
        var spur = _space.BranchOf[to];
        var pusherSpur = _space.BranchOf[pusher.Path[0]];
        return pusherSpur >= 0 && _space.SpurArray[pusherSpur] && pusherSpur != spur
               && !_space.LiftArray[to] && spur >= 0 && spur != _space.BranchOf[from] && _space.SpurArray[spur]
               && !SomeoneElseIn(spur, agent) && (pusher.Target < 0 || _space.BranchOf[pusher.Target] != spur);
    }

    /// <summary>What a pushed robot's step into an empty spur (<see cref="EmptySpurRefuge"/>) costs above its travel time, in seconds.</summary>
    private const double SpurRefugeCostSeconds = 60;

    /// <summary>How many waypoints ahead a pusher's way is followed to price a pushed robot's retreat along it.</summary>
    private const int ChaseHorizon = 40;

    /// <summary>True when <paramref name="other"/> stands still, not busy, with somewhere to go through <paramref name="waypoint"/> (a neighbour of where it stands).</summary>
    private bool WantsThrough(Agent other, int waypoint) =>
        !other.Busy && other.Path.Count == 1 && other.ClaimWaypoint < 0 && other.Target >= 0
        && Times(other) is var theirs && theirs[waypoint] < theirs[other.Path[0]];

    /// <summary>
    /// Seconds <paramref name="agent"/> stands still before it makes way for <paramref name="other"/>, which wants through
    /// its waypoint and cannot make room (the swap situation): of two robots that could each get out of the other's way,
    /// the one for which it costs clearly less (<see cref="MakeWayCost"/>) makes way. Where the agent's making way costs
    /// at most <see cref="MakeWayMarginSeconds"/>, that much less than the other's, and clears its waypoint at once:
    /// <see cref="QuickMakeWay"/>. Where the other's costs that much less than the agent's: twice
    /// <see cref="PibtTrafficOptions.MakeWayAfterSeconds"/> (the other makes way first; this robot still makes way if it does
    /// not; at the defaults 30 s is also when the jam fallback and precedence start, so they usually act first). Else, and
    /// where the other cannot make way at all (in a dead end: making way sooner there was measured worse,
    /// hotel seeds 1–60, 105 → 138 stalls), MakeWayAfterSeconds. Regression: airport terminal one way round, seed 64: a
    /// robot on a corridor's mouth, two lanes from its goal, drove round a one-way loop (about 180 s) to let the robot in
    /// the corridor out, when that robot could have backed up one waypoint to a parking place in the corridor and left by
    /// the corridor's other end (5 s more); by the time either had stood still for MakeWayAfterSeconds, another robot had
    /// driven into that parking place. A move that leaves the robot still too close for the other to come is not quick: it
    /// is undone as soon as the other does not follow (found measuring: clinic one way round, seed 11, a robot going back
    /// and forth every few seconds for the rest of the run).
    /// </summary>
    private double MakeWayAfter(Agent agent, Agent other)
    {
        var (own, clears) = MakeWayCost(agent, other);
        var (theirs, _) = MakeWayCost(other, agent);
        if (clears && own <= MakeWayMarginSeconds && double.IsFinite(theirs) && own + MakeWayMarginSeconds < theirs)
            return QuickMakeWay;
        return theirs + MakeWayMarginSeconds < own ? 2 * _options.MakeWayAfterSeconds : _options.MakeWayAfterSeconds;
    }

    /// <summary>
    /// What it costs <paramref name="agent"/> to make way for <paramref name="other"/>, which wants its waypoint: seconds added
    /// to its travel time to its target by its best move that is free now and not onto the other's waypoint (passing lanes
    /// included; a move onto the way the other goes on along priced as the retreat along it,
    /// <see cref="ChaseKey(Agent, float[], List{int}, int)"/>, and left out where that way offers no place to leave it within
    /// <see cref="ChaseHorizon"/> waypoints); infinite when it has no such move, 0 without a target, NaN when its own target
    /// is out of reach. Also whether making way clears its waypoint for the other at once: both that move and the free move
    /// nearest its target (the one <see cref="Decide"/> tries first when making way) end no closer to the waypoint than the
    /// footprints allow.
    /// </summary>
    private (double Cost, bool Clears) MakeWayCost(Agent agent, Agent other)
    {
        if (agent.Target < 0)
            return (0, true);
        var times = Times(agent);
        var u = agent.Path[0];
        var from = other.Path[0];
        var way = WayThrough(other, from, u);
        var (best, bestClears) = (double.PositiveInfinity, false);
        var (first, firstClears) = (double.PositiveInfinity, false);
        for (var k = _space.OutStart[u]; k < _space.OutStart[u + 1]; k++)
        {
            var lane = _space.OutLanes[k];
            var v = _space.LaneTo[lane];
            if (v == from || _closed.Contains(lane) || OffWayInto(u, v, times, pushed: false) || !Free(v, _space.LaneResource[lane], agent))
                continue;
            var clears = !_space.ConflictsWith(v, u);
            if (times[v] < first || (times[v] == first && !clears))
                (first, firstClears) = (times[v], clears);
            var at = way?.IndexOf(v) ?? -1;
            double key = times[v];
            if (at >= 2)
            {
                key = ChaseKey(agent, times, way!, at, out var aside);
                if (!aside)
                    continue; // backing off along the other's way with nowhere to leave it (within ChaseHorizon) makes no way
            }

            if (double.IsFinite(key) && (key < best || (key == best && !clears)))
                (best, bestClears) = (key, clears);
        }

        return (best - times[u], bestClears && firstClears);
    }

    /// <summary>Seconds by which one robot's making way must cost less than the other's to be preferred (<see cref="MakeWayAfter"/>); also the most a quick making way may cost.</summary>
    private const double MakeWayMarginSeconds = 30;

    /// <summary>Seconds a robot stands still before it makes way when that is clearly the cheaper of the two (<see cref="MakeWayAfter"/>).</summary>
    private const double QuickMakeWaySeconds = 5;

    /// <summary><see cref="QuickMakeWaySeconds"/>, or <see cref="PibtTrafficOptions.MakeWayAfterSeconds"/> where that is shorter.</summary>
    private double QuickMakeWay => Math.Min(QuickMakeWaySeconds, _options.MakeWayAfterSeconds);

    /// <summary>True when the waypoint and the lane segment to it can be taken at once: nobody holds or claims them or anything conflicting, and no claim is next to the waypoint.</summary>
    private bool Free(int waypoint, int segment, Agent agent) =>
        _owner[waypoint] == -1 && _owner[segment] == -1 && _claimer[waypoint] == -1 && _claimer[segment] == -1
        && !Blocked(waypoint, agent, -1) && !Blocked(segment, agent, -1) && !ClaimedNear(waypoint, agent);

    /// <summary>
    /// True when the robot would stand in the way out of a dead-end spur another robot is in, on its way into that spur:
    /// on the spur's mouth (the only way out; the two would have to swap), or one waypoint before the mouth but too close to
    /// the mouth or the spur (by geometry) for the robot inside to come out past it. It waits further back instead, where
    /// it can let the robot out without being pushed on (on a one-way loop, round the whole loop). Also true when the robot
    /// would pass a spur's mouth, from a waypoint in the way out, while a robot in that spur has a target outside it (on a
    /// one-way loop the two could stand for good, each too close to the mouth for the other to enter it), or while a robot in
    /// that spur stands too close to the mouth for anyone to pass it (an idle one is then asked out, <see cref="KeepsMouthShut"/>).
    /// And true on the mouth of a dead-end wing (no spur) that the robot's way enters next, whose first waypoint holds a robot
    /// on its way out, when the robot could not back off the mouth the way it came (<see cref="CanBackOff"/>).
    /// </summary>
    private bool WaitsAtMouth(Agent agent, int waypoint, float[] times)
    {
        var at = waypoint;
        for (var hop = 1; hop <= 2 && at != agent.Target; hop++)
        {
            var lane = _space.FastestLaneOut(at, times, _isClosed, _flowWeight);
            if (lane < 0)
                return false;
            var next = _space.LaneTo[lane];
            var spur = _space.BranchOf[next];
            if (spur >= 0 && _space.BranchOf[waypoint] != spur && _space.SpurArray[spur])
                return SomeoneElseIn(spur, agent) && (hop == 1 || InTheWayOut(waypoint, spur));
            // The mouth of a dead-end wing (no spur: robots pass one another in it) that the agent's way enters next, whose first
            // waypoint holds a robot on its way out, when the agent could not back off the mouth the way it came (a loop's flow,
            // or one way): the two would have to swap on the mouth, and the agent could only make way on along the loop
            // (regression: the airport terminal, seed 69, a robot bound for s20 sent round the terminal by a robot leaving the
            // chargers behind it). Where it can back off (the hotel's two-way corridors) it is left to PIBT's swap. A robot
            // deciding of its own accord is also kept off by ChainOccupant while a robot with a mission is anywhere in a
            // dead-end chain there; this adds claims being granted, robots pushed along two-way lanes, and wings that do not
            // begin with such a chain.
            if (hop == 1 && WingMouthTaken(agent, waypoint, next))
                return true;
            // Passing the mouth of a spur a robot wants to come out of: not from a waypoint in its way out (regression: the office
            // with its loops one way round, a robot bound for patrol_A1 waited at L1_v60, too close to patrol_A1 for the robot
            // in the charger spur behind it to come out, and the only lane on from L1_v60 leads to patrol_A1: both stood for good).
            // Likewise while a robot in the spur stands too close to the mouth for anyone to pass it: it must come out first,
            // through the mouth, and an idle one is asked to (regression: the office one way round through the control plane,
            // an idle robot parked in the charger spur and a robot waiting at L1_v60 stood for good).
            foreach (var mouthOf in _spursAtMouth[next])
            {
                if (_space.BranchOf[waypoint] != mouthOf && InTheWayOut(waypoint, mouthOf)
                    && (SomeoneElseIn(mouthOf, agent, wantingOut: true) || KeepsMouthShut(mouthOf, agent)))
                    return true;
            }

            at = next;
        }

        return false;
    }

    /// <summary>
    /// True when <paramref name="waypoint"/> is the mouth of a dead-end wing (a branch that is no spur) whose first waypoint
    /// on the agent's way in, <paramref name="next"/>, holds another robot with a target outside the wing (coming out), and
    /// the agent could not back off the mouth the way it came (<see cref="CanBackOff"/>): the wing-mouth rule of
    /// <see cref="WaitsAtMouth"/>.
    /// </summary>
    private bool WingMouthTaken(Agent agent, int waypoint, int next) =>
        _space.BranchOf[next] is var spur and >= 0 && !_space.SpurArray[spur] && _space.BranchMouth[spur] == waypoint && _owner[next] is var inside and >= 0 && inside != agent.Index
        && _agents[inside] is { Target: >= 0 } leaving && _space.BranchOf[leaving.Target] != spur && !CanBackOff(agent.Path[^1], waypoint);

    /// <summary>
    /// <see cref="WingMouthTaken"/> for the agent's fastest way on from <paramref name="waypoint"/> (its times to its target):
    /// the one rule of <see cref="WaitsAtMouth"/> a jam plan's moves keep to (<see cref="RunPlans"/>), and a robot waiting
    /// short of such a mouth is not picked for a plan (<see cref="ResolveJam"/>). With all of
    /// WaitsAtMouth applied to plans the clinic (5 robots, 30 min, seeds 1 to 40, controller alone) went 39 → 41 stalls;
    /// with this rule alone its runs are unchanged (thirty-third session).
    /// </summary>
    private bool WaitsAtWingMouth(Agent agent, int waypoint, float[] times) =>
        waypoint != agent.Target && _space.FastestLaneOut(waypoint, times, _isClosed, _flowWeight) is var lane and >= 0 && WingMouthTaken(agent, waypoint, _space.LaneTo[lane]);

    /// <summary>
    /// True when a robot that came from <paramref name="from"/> onto <paramref name="to"/> could go back: the lane back exists,
    /// is not closed (a passing lane counts as open) and does not run against a loop's flow under a flow weight above 1;
    /// false when the two are the same waypoint.
    /// </summary>
    private bool CanBackOff(int from, int to) =>
        from != to && _space.LaneBetween(to, from) is var back and >= 0 && !_closed.Contains(back) && !(_flowWeight > 1 && _space.AgainstFlowArray[back]);

    /// <summary>
    /// True when a robot other than <paramref name="agent"/> holds a waypoint of the spur; with <paramref name="wantingOut"/>,
    /// only one whose target lies outside the spur counts.
    /// </summary>
    private bool SomeoneElseIn(int spur, Agent agent, bool wantingOut = false)
    {
        foreach (var w in _space.BranchWaypoints[spur])
        {
            if (_owner[w] is var o and >= 0 && o != agent.Index
                && (!wantingOut || _agents[o] is { Target: >= 0 } other && _space.BranchOf[other.Target] != spur))
                return true;
        }

        return false;
    }

    /// <summary>
    /// True when a robot other than <paramref name="agent"/> holds a waypoint of the spur too close to the spur's mouth (by
    /// geometry) for a robot to pass the mouth; one without a goal is asked to leave the spur (<see cref="EvacuateSpurs"/>).
    /// </summary>
    private bool KeepsMouthShut(int spur, Agent agent)
    {
        var mouthConflicts = _space.HardConflicts[_space.BranchMouth[spur]];
        foreach (var w in _space.BranchWaypoints[spur])
        {
            if (_owner[w] is var o and >= 0 && o != agent.Index && mouthConflicts.Contains(w))
            {
                if (_agents[o].Goal < 0)
                    _agents[o].EvacuateAsked = spur;
                return true;
            }
        }

        return false;
    }

    /// <summary>True when a robot on the waypoint keeps the robot in the spur from coming out: it conflicts by geometry with the spur's mouth or a part of the spur.</summary>
    private bool InTheWayOut(int waypoint, int spur)
    {
        var conflicts = _space.HardConflicts[waypoint];
        return conflicts.Contains(_space.BranchMouth[spur]) || _space.SpurParts[spur].Any(conflicts.Contains);
    }

    /// <summary>
    /// The robots other than <paramref name="agent"/> holding the waypoint, the lane segment, or anything conflicting with
    /// them (distinct); null when one of them is claimed by another robot.
    /// </summary>
    private List<Agent>? Blockers(int waypoint, int segment, Agent agent)
    {
        if (_claimer[waypoint] is var c and >= 0 && c != agent.Index)
            return null;
        var found = new List<Agent>();
        void Add(int resource)
        {
            if (_owner[resource] is var o and >= 0 && o != agent.Index && !found.Contains(_agents[o]))
                found.Add(_agents[o]);
        }

        foreach (var resource in new[] { waypoint, segment })
        {
            Add(resource);
            foreach (var r in _space.HardConflicts[resource])
                Add(r);
            foreach (var r in SpurPartsFor(resource, agent))
                Add(r);
        }

        return found;
    }

    /// <summary>
    /// True when a resource conflicting with the waypoint is claimed by another robot (do not stop where a claim will need
    /// room), not counting the claim of <paramref name="pusher"/>, the robot pushing this one off its waypoint, when that
    /// claim is on the very waypoint this robot is leaving (on a map with waypoints closer than the footprint, the only way
    /// off may be next to it; the claim is then dropped and the robot pushed on from there, see <c>GrantClaims</c>). A
    /// robot pushed because it stands next to the claimed waypoint must end clear of it: moved from one place next to it
    /// to another, it was pushed back and forth at every step (two waypoints of a dead-end pocket beside the claimed one).
    /// </summary>
    private bool ClaimedNear(int waypoint, Agent agent, Agent? pusher = null)
    {
        var leavingClaimed = pusher is not null && agent.Path.Count > 0 && pusher.ClaimWaypoint == agent.Path[0];
        bool ClaimedByAnother(int r) => r != waypoint && _claimer[r] is var c and >= 0 && c != agent.Index && !(leavingClaimed && c == pusher!.Index);
        foreach (var r in _space.HardConflicts[waypoint])
        {
            if (ClaimedByAnother(r))
                return true;
        }

        foreach (var r in SpurPartsFor(waypoint, agent))
        {
            if (ClaimedByAnother(r))
                return true;
        }

        return false;
    }

    /// <summary>True when <paramref name="other"/> is driving off with a granted move whose end is clear of the waypoint and segment: waiting for it always ends.</summary>
    private bool Follows(Agent other, int waypoint, int segment)
    {
        if (!other.Decided || other.Path.Count < 2 || other.ClaimWaypoint >= 0 || other.Busy)
            return false;
        var end = other.Path[^1];
        return end != waypoint && !_space.Conflicts[end].Contains(waypoint) && !_space.Conflicts[end].Contains(segment);
    }

    /// <summary>True when a lane is a lift ride: from one lift stop to another.</summary>
    private bool LiftRide(int lane) => _space.LiftArray[_space.LaneFrom[lane]] && _space.LiftArray[_space.LaneTo[lane]];

    /// <summary>True when a lane is closed other than by a traffic rule: closed and not a last-resort lane (<see cref="SetLastResortLanes"/>).</summary>
    private bool ClosedBeyondLastResort(int lane) => _closed.Contains(lane) && !_lastResort.Contains(lane);

    /// <summary>Extends a robot's way along its fastest route while the waypoints and lanes ahead are free, within the horizon.</summary>
    private void Extend(Agent agent)
    {
        if (agent.Target < 0)
            return;
        // A standing robot extends only by deciding; a moving one (or one that just moved) extends here.
        if (agent.Path.Count == 1)
            return;
        var times = Times(agent);
        var ahead = AheadMetres(agent);
        while (agent.Path.Count - 1 < _options.HorizonWaypoints && ahead < _options.HorizonMetres)
        {
            var u = agent.Path[^1];
            if (u == agent.Target)
                return;
            var best = _space.FastestLaneOut(u, times, _isClosed, _flowWeight);
            if (best < 0)
                return;
            var v = _space.LaneTo[best];
            var segment = _space.LaneResource[best];
            if (!Free(v, segment, agent) || WaitsAtMouth(agent, v, times) || ChainOccupant(agent, v, times) is not null || KeepsBackUpFree(agent, v, times))
                return;
            Take(agent, v, segment);
            ahead += _space.Lanes[best].Length;
        }
    }

    /// <summary>
    /// A robot that keeps <paramref name="agent"/> off <paramref name="waypoint"/>, or null: the waypoint is the exit of a
    /// dead-end chain inside a wing (a corridor to a room at its end, <see cref="TrafficSpace.ChainExit"/>) that the agent's
    /// way enters next, and that robot, with a mission, holds a waypoint in the chain. Nobody can pass in the chain and that
    /// robot comes out through its exit, so the agent waits short of the exit (the rule that keeps robots off the mouth of
    /// an occupied spur, <see cref="WaitsAtMouth"/>, for chains too long to be one resource). Robots without a mission parked
    /// in the chain do not keep it out. A robot being pushed is kept off only when pushed along a one-way lane
    /// (<see cref="PushedOneWay"/>: on a loop driven one way round, pushed onto the exit it would be sent round the loop by
    /// the robot coming out; elsewhere it may have no other way to make room, and keeping it off cost the hotel 44 -> 50
    /// stalls in 30 half-hours through the coordinator).
    /// Measured on the hotel, 5 robots (<c>bench/results/traffic-pibt.md</c>, twenty-first session): through the coordinator,
    /// 90 half-hours, 150 stalls before, 132 after; the controller alone, 120 half-hours, 231 before, 213 after.
    /// </summary>
    private Agent? ChainOccupant(Agent agent, int waypoint, float[] times)
    {
        if (!_space.IsChainExit[waypoint] || waypoint == agent.Target || _space.FastestLaneOut(waypoint, times, _isClosed, _flowWeight) is not (var lane and >= 0))
            return null;
        var next = _space.LaneTo[lane];
        var chain = _space.ChainFirst[next];
        if (chain < 0 || _space.ChainExit[next] != waypoint)
            return null;
        foreach (var other in _agents)
        {
            // One standing at its target, done (parked there, waiting for work), may stay for long: it does not keep it out.
            if (other == agent || other.Removed || other.Target < 0 || other.Target == other.Path[^1] && !other.Busy)
                continue;
            foreach (var w in other.Path)
            {
                if (_space.ChainFirst[w] == chain)
                    return other;
            }
        }

        return null;
    }

    /// <summary>
    /// True when the robot <paramref name="pusher"/> pushes off <paramref name="waypoint"/> comes to it along a one-way lane
    /// (a loop driven one way round; not one in the way by geometry alone): the pushed robot cannot make room back past it,
    /// so keeping it off a waypoint costs only a wait.
    /// </summary>
    private bool PushedOneWay(Agent pusher, int waypoint) =>
        _space.LaneBetween(pusher.Path[0], waypoint) >= 0 && _space.LaneBetween(waypoint, pusher.Path[0]) is var back && (back < 0 || _isClosed(back));

    /// <summary>
    /// True when <paramref name="waypoint"/> is where a robot standing on the next waypoint, the mouth of a dead-end spur
    /// another robot with a mission is in, would back up to let that robot out: the far end of the mouth's passing lane (a
    /// loop driven one way round, <see cref="SetPassingLanes"/>); only while the robot on the mouth is busy there or bound
    /// elsewhere (an idle one, or one done there, is pushed on instead). The agent, bound on through that mouth, waits a waypoint further back
    /// instead (it could not pass the mouth sooner anyway), so the robot on the mouth can make way without being sent round
    /// the whole loop; a robot pushed along the loop is not pushed onto it either (<see cref="PushedOneWay"/>: the pusher
    /// waits). Measured on the airport terminal one way round (<c>bench/results/traffic-pibt.md</c>, twenty-second and
    /// twenty-third sessions).
    /// </summary>
    private bool KeepsBackUpFree(Agent agent, int waypoint, float[] times)
    {
        if (_passing.Count == 0 || waypoint == agent.Target || _space.FastestLaneOut(waypoint, times, _isClosed, _flowWeight) is not (var lane and >= 0))
            return false;
        var mouth = _space.LaneTo[lane];
        if (_spursAtMouth[mouth].Length == 0 || _owner[mouth] is not (var o and >= 0) || o == agent.Index
            || _space.LaneBetween(mouth, waypoint) is not (var back and >= 0) || !_passing.Contains(back) || _closed.Contains(back))
            return false;
        // The one on the mouth stands there on business (busy, or bound elsewhere; an idle one or one done there is pushed
        // on instead), and the one in the spur has a mission (it will come out; one parked there does not keep anyone back).
        var onMouth = _agents[o];
        if (onMouth.Path.Count != 1 || !onMouth.Busy && (onMouth.Target < 0 || onMouth.Target == mouth))
            return false;
        foreach (var spur in _spursAtMouth[mouth])
        {
            foreach (var w in _space.BranchWaypoints[spur])
            {
                if (_owner[w] is var i and >= 0 && i != o && i != agent.Index && _agents[i].Target >= 0)
                    return true;
            }
        }

        return false;
    }

    /// <summary>
    /// True when the spur the robot's way enters next from <paramref name="mouth"/> holds another robot that is busy there
    /// or driving (it comes out by itself).
    /// </summary>
    private bool SpurInUse(int mouth, Agent agent, float[] times)
    {
        if (_space.FastestLaneOut(mouth, times, _isClosed, _flowWeight) is not (var lane and >= 0) || _space.BranchOf[_space.LaneTo[lane]] is not (var spur and >= 0)
            || !_space.SpurArray[spur])
            return false;
        foreach (var w in _space.BranchWaypoints[spur])
        {
            if (_owner[w] is var o and >= 0 && o != agent.Index && (_agents[o].Busy || _agents[o].Path.Count > 1))
                return true;
        }

        return false;
    }

    /// <summary>Metres of lane the robot holds ahead of the waypoint it last reached.</summary>
    private double AheadMetres(Agent agent)
    {
        var ahead = 0.0;
        for (var i = 1; i < agent.Path.Count; i++)
            ahead += _space.Lanes[_space.LaneBetween(agent.Path[i - 1], agent.Path[i])].Length;
        return ahead;
    }

    /// <summary>
    /// True when <paramref name="resource"/> or a resource conflicting with it is held by a robot other than
    /// <paramref name="agent"/> (and <paramref name="except"/>, the one being pushed off it), or the resource itself is claimed
    /// by another robot. A claim reserves only what it names: taking something next to it merely makes the claimer wait until
    /// that is driven off, which always ends.
    /// </summary>
    private bool Blocked(int resource, Agent agent, int except)
    {
        var own = agent.Index;
        if (_claimer[resource] is var c and >= 0 && c != own)
            return true;
        if (_owner[resource] is var o and >= 0 && o != own && o != except)
            return true;
        foreach (var r in _space.HardConflicts[resource])
        {
            if (_owner[r] is var o2 and >= 0 && o2 != own && o2 != except)
                return true;
        }

        foreach (var r in SpurPartsFor(resource, agent))
        {
            if (_owner[r] is var o3 and >= 0 && o3 != own && o3 != except)
                return true;
        }

        return false;
    }

    /// <summary>
    /// The resources of the dead-end spur <paramref name="resource"/> is part of, when the spur rule applies to
    /// <paramref name="agent"/>: it keeps robots out of a spur another robot is in, so it applies to a robot outside that
    /// spur. Robots already in one spur together (parked at neighbouring places, or placed there) move in it and out of it
    /// apart only by geometry, else each would wait for the other for ever. Empty when the resource is in no spur.
    /// </summary>
    private int[] SpurPartsFor(int resource, Agent agent)
    {
        var spur = _space.SpurOfResource[resource];
        return spur < 0 || agent.Path.Count > 0 && _space.BranchOf[agent.Path[0]] == spur ? [] : _space.SpurParts[spur];
    }

    private void Take(Agent agent, int waypoint, int segment)
    {
        // Any move (of its own, a push, a jam plan's) that takes a standing robot far from its goal: it waits to return.
        // Only under a loop flow weight, where the far move is one lane against the flow away from undone: one way round
        // (lanes against the loops closed) there is no way back to wait for (review).
        if (_options.FarMoveWaitSeconds > 0 && _options.ResolveJamAfterSeconds > 0 && _flowWeight > 1 && agent.Target >= 0 && agent.Path.Count == 1 && agent.FarFrom < 0
            && Times(agent) is var times && times[waypoint] - times[agent.Path[0]] >= FarMoveSeconds)
            (agent.FarFrom, agent.FarSince) = (agent.Path[0], _now);
        _owner[waypoint] = agent.Index;
        _owner[segment] = agent.Index;
        agent.Path.Add(waypoint);
    }

    private void SetClaim(Agent agent, int waypoint, int segment, bool detour)
    {
        agent.ClaimWaypoint = waypoint;
        agent.ClaimSegment = segment;
        agent.ClaimSince = _now;
        agent.ClaimDetour = detour;
        _claimer[waypoint] = agent.Index;
        _claimer[segment] = agent.Index;
    }

    private void DropClaim(Agent agent)
    {
        if (agent.ClaimWaypoint < 0)
            return;
        if (_claimer[agent.ClaimWaypoint] == agent.Index)
            _claimer[agent.ClaimWaypoint] = -1;
        if (_claimer[agent.ClaimSegment] == agent.Index)
            _claimer[agent.ClaimSegment] = -1;
        agent.ClaimWaypoint = -1;
        agent.ClaimSegment = -1;
    }

    private void ReleaseAll(Agent agent)
    {
        if (agent.Plan is not null)
            EndPlan(agent.Plan);
        DropClaim(agent);
        for (var i = 0; i < agent.Path.Count; i++)
        {
            Free(agent.Path[i], agent);
            if (i > 0)
                Free(SegmentBetween(agent.Path[i - 1], agent.Path[i]), agent);
        }

        agent.Path.Clear();
    }

    private void Free(int resource, Agent agent)
    {
        if (resource >= 0 && _owner[resource] == agent.Index)
            _owner[resource] = -1;
    }

    private int SegmentBetween(int from, int to) => _space.LaneBetween(from, to) is var lane and >= 0 ? _space.LaneResource[lane] : -1;

    private float[] Times(Agent agent) => TimesTo(agent.Target);

    /// <summary>Travel times to a waypoint as the controller decides by (closures, loop flow weight, stranded robots).</summary>
    private float[] TimesTo(int waypoint) => _space.TimesTo(waypoint, _closures, _isClosed, _flowWeight, _strandedAt.Count > 0 ? _isStrandedAt : null);

    /// <summary>
    /// True while a robot waits to return to where a far move took it from (<see cref="PibtTrafficOptions.FarMoveWaitSeconds"/>):
    /// it has a goal, the move was less than that long ago, and it is (or is released to) no nearer its goal than there.
    /// Ends the wait otherwise. Not thread-safe (the controller's state).
    /// </summary>
    private bool WaitsToReturn(Agent agent)
    {
        if (agent.FarFrom < 0)
            return false;
        if (agent.Removed || agent.Target < 0 || _now - agent.FarSince > _options.FarMoveWaitSeconds || agent.Path.Count == 0
            || Times(agent) is var times && times[agent.Path[^1]] <= times[agent.FarFrom] + 1e-3)
        {
            agent.FarFrom = -1;
            return false;
        }

        return true;
    }

    /// <summary>How much a single move must add to a robot's travel time to its goal, in seconds, to count as a far move (<see cref="PibtTrafficOptions.FarMoveWaitSeconds"/>).</summary>
    public const double FarMoveSeconds = 60;

    /// <summary>Seconds between two jam searches for a robot waiting to return (<see cref="WaitsToReturn"/>).</summary>
    private const double ReturnSearchEverySeconds = 1;

    /// <summary>What a move along the pusher's way costs a robot waiting to return, over its travel time: more than any other move.</summary>
    private const double OnPushersWaySeconds = 1e6;

    private Agent Get(string robotId) =>
        _byId.TryGetValue(robotId, out var agent) && !agent.Removed ? agent : throw new KeyNotFoundException($"robot '{robotId}' is not under traffic control (Place it first)");

    private double Tie(string robotId)
    {
        var hash = 14695981039346656037UL; // FNV-1a: stable across processes, unlike string.GetHashCode
        foreach (var ch in robotId)
            hash = (hash ^ ch) * 1099511628211UL;
        return (Mix((ulong)_options.Seed, hash, 17) % 1_000_000) / 1_000_000.0;
    }

    private static ulong Mix(ulong a, ulong b, ulong c)
    {
        var x = a * 0x9E3779B97F4A7C15UL ^ (b + 0xBF58476D1CE4E5B9UL) * 0x94D049BB133111EBUL ^ c * 0xD6E8FEB86659FD93UL;
        x ^= x >> 31;
        x *= 0x9E3779B97F4A7C15UL;
        return x ^ (x >> 29);
    }

    private sealed class Agent(string id, int index, double tie)
    {
        public string Id { get; } = id;
        public int Index { get; } = index;
        public double Tie { get; } = tie;
        public List<int> Path { get; } = [];
        public int Goal { get; set; } = -1;
        public long GoalSince { get; set; }

        /// <summary>Without a goal, in a dead-end spur another robot's goal lies in: the spur's mouth, where it goes to make room; else -1.</summary>
        public int Evacuate { get; set; } = -1;

        /// <summary>The spur it stands in without a goal when a robot could not push it out of its way (it leaves it then), else -1.</summary>
        public int EvacuateAsked { get; set; } = -1;
        public long EvacuateSince { get; set; }

        /// <summary>The fork it heads out to, boxed in at the end of a dead-end chain (see <c>NoteLeavingChain</c>), else -1.</summary>
        public int LeavingChain { get; set; } = -1;

        /// <summary>Where it heads: its goal, else where it leaves a spur for, else -1.</summary>
        public int Target => Goal >= 0 ? Goal : Evacuate;
        public bool Busy { get; set; }

        /// <summary>It will not move until a person acts (<see cref="SetStranded"/>).</summary>
        public bool Stranded { get; set; }
        public bool Removed { get; set; }
        public bool Decided { get; set; }
        public int ClaimWaypoint { get; set; } = -1;
        public int ClaimSegment { get; set; } = -1;
        public double ClaimSince { get; set; }
        public bool ClaimDetour { get; set; }

        /// <summary>Since when it has stood still with somewhere to go, deciding or waiting on a claim (NaN while it moves, works or has nowhere to go).</summary>
        public double StillSince { get; set; } = double.NaN;

        /// <summary>The waypoint it stands still on (-1: it does not), and since when it has not left it: unlike <see cref="StillSince"/>, a move between two steps counts.</summary>
        public int StoodAt { get; set; } = -1;

        /// <summary>Since when it has stood on <see cref="StoodAt"/> (NaN: it does not stand still), in controller seconds.</summary>
        public double StoodSince { get; set; } = double.NaN;

        /// <summary>Index of the robot this one decided to make way for, kept while that robot follows (see <see cref="Decide"/>); -1 for none.</summary>
        public int MadeWayFor { get; set; } = -1;

        /// <summary>When this robot last moved to make way for <see cref="MadeWayFor"/>, seconds.</summary>
        public double MadeWaySince { get; set; }

        /// <summary>The waypoint this robot last left to make way for <see cref="MadeWayFor"/>.</summary>
        public int MadeWayFrom { get; set; } = -1;

        /// <summary>The jam plan that moves it (it neither decides nor is pushed meanwhile), or null.</summary>
        public JamPlan? Plan { get; set; }

        /// <summary>The target its progress is kept for (<see cref="TrackProgress"/>), or -1.</summary>
        public int ProgressTarget { get; set; } = -1;

        /// <summary>Its lowest travel time to <see cref="ProgressTarget"/> from a waypoint it reached, in seconds.</summary>
        public float BestTime { get; set; }

        /// <summary>When it last reached a waypoint nearer its target than any before (NaN: no target, busy).</summary>
        public double ProgressSince { get; set; } = double.NaN;

        /// <summary>When a jam search last ran for it (NaN: never).</summary>
        public double LastJamSearch { get; set; } = double.NaN;

        /// <summary>The waypoint a far move took it from, while it waits to return there (<see cref="WaitsToReturn"/>); -1: none.</summary>
        public int FarFrom { get; set; } = -1;

        /// <summary>When that far move was made, seconds.</summary>
        public double FarSince { get; set; }
    }

    /// <summary>Moves found by a jam search, released one after another in order; its robots stand by until it ends.</summary>
    private sealed class JamPlan(Agent stuck, List<Agent> robots, List<(Agent Agent, int From, int To, int Lane)> moves)
    {
        public Agent Stuck { get; } = stuck;
        public List<Agent> Robots { get; } = robots;
        public List<(Agent Agent, int From, int To, int Lane)> Moves { get; } = moves;
        public int Next { get; set; }

        /// <summary>Since when its next move has waited for robots outside it to clear the way (NaN: it does not).</summary>
        public double BlockedSince { get; set; } = double.NaN;

        /// <summary>Whether its moves may drive the last-resort and passing lanes (<see cref="SetLastResortLanes"/>).</summary>
        public bool LastResort { get; init; }
    }
}
