// Package demo loads the demonstration data set of `gatehouse serve
// --demo` (docs/demo.md): a radiology installation, an image library, a
// trial master file, an exclusive clinical project and system groups with
// the four predefined roles, drawn from the five reference documents, and
// a few hundred generated users, some with expiring or expired
// memberships.
//
// Everything is written through the service layer as the bootstrap
// administrator, so the demo is validated, authorized and audited like
// any other write. Names and ids are fixed (the docs name them), so two
// loads give the same data; only membership expiry dates follow the clock,
// so that some have expired and some expire soon whenever it is loaded.
package demo

import (
	"context"
	"fmt"
	"time"

	"github.com/gatehouse/gatehouse/internal/authn/password"
	"github.com/gatehouse/gatehouse/internal/domain"
	"github.com/gatehouse/gatehouse/internal/service"
	"github.com/gatehouse/gatehouse/internal/store"
)

// SettingDemo marks a database the demo was loaded into; its value is
// the demo's version. It is written last, so a load that stopped midway
// leaves no marker.
const SettingDemo = "demo"

// demoVersion is SettingDemo's value.
const demoVersion = "1"

// AdminPassword is the bootstrap administrator's password in the demo.
const AdminPassword = "demo-admin"

// Login is one documented demo sign-in.
type Login struct {
	Username, Password, Role string
}

// Logins are the demo's sign-ins, administrator first (docs/demo.md).
var Logins = []Login{
	{"admin", AdminPassword, "administrator (Administrators: server.manage)"},
	{"manager", "demo-manager", "user manager (User managers: System Manager role)"},
	{"moderator", "demo-moderator", "moderator of Lung CT screening and of the exclusive clinical trial"},
	{"radiologist", "demo-radiologist", "member of Radiologists of XYZ hospital (CIRCUS-style privileges)"},
	{"scientist", "demo-scientist", "member of GRT ABC team (trial master file rule)"},
	{"user", "demo-user", "a normal user in no group"},
}

// State is what a database holds, as far as the demo is concerned.
type State int

// The states Inspect reports.
const (
	Fresh   State = iota // revision 0: nothing written yet
	Loaded               // the demo is loaded
	Foreign              // data that is not (or not all) the demo's
)

// Inspect tells whether st is fresh, holds the demo, or holds other data.
func Inspect(ctx context.Context, st store.Reader) (State, error) {
	const op = "demo.Inspect"
	if _, err := st.GetSetting(ctx, SettingDemo); err == nil {
		return Loaded, nil
	} else if !domain.Is(err, domain.KindNotFound) {
		return 0, domain.E(op, err)
	}
	rev, err := st.Revision(ctx)
	if err != nil {
		return 0, domain.E(op, err)
	}
	if rev == 0 {
		return Fresh, nil
	}
	return Foreign, nil
}

// Options tune Load.
type Options struct {
	// Now is the load's clock (default time.Now); expiry dates follow it.
	Now func() time.Time
	// PasswordParams hash the demo logins' passwords (default
	// password.Default); tests pass cheap ones.
	PasswordParams *password.Params
}

// Result says what Load wrote.
type Result struct {
	Users, Groups, Projects, Folders, Memberships int
	Revision                                      int64
}

// Load writes the demo into st, which must be bootstrapped and otherwise
// empty (Inspect says Fresh before bootstrap), through the service layer
// as the bootstrap administrator, and marks it with SettingDemo.
func Load(ctx context.Context, st store.Store, opts Options) (Result, error) {
	const op = "demo.Load"
	if opts.Now == nil {
		opts.Now = time.Now
	}
	now := opts.Now().UTC().Truncate(time.Second)
	svc, err := service.New(ctx, st, service.Options{Now: func() time.Time { return now }, PasswordParams: opts.PasswordParams})
	if err != nil {
		return Result{}, domain.E(op, err)
	}
	// Expired memberships cannot be added now (an expiry must lie ahead),
	// so they are added by a service whose clock reads 30 days earlier,
	// as if an administrator had added them then.
	past, err := service.New(ctx, st, service.Options{Now: func() time.Time { return now.AddDate(0, 0, -30) }, PasswordParams: opts.PasswordParams})
	if err != nil {
		return Result{}, domain.E(op, err)
	}
	adminName, err := st.GetSetting(ctx, service.SettingBootstrapped)
	if err != nil {
		return Result{}, domain.E(op, fmt.Errorf("the database is not bootstrapped: %w", err))
	}
	admin, err := st.GetUserByUsername(ctx, adminName.Value)
	if err != nil {
		return Result{}, domain.E(op, err)
	}
	l := &loader{ctx: ctx, svc: svc, past: past, now: now,
		c: domain.Principal{UserID: admin.ID, Username: admin.Username, RemoteAddr: "demo"}}
	l.build()
	if l.err != nil {
		return Result{}, domain.E(op, l.err)
	}
	// The marker goes last, in a transaction of its own with its audit
	// record, like bootstrap's.
	ch, err := st.InTx(ctx, func(ctx context.Context, tx store.Tx) error {
		if err := tx.PutSetting(ctx, &domain.Setting{Key: SettingDemo, Value: demoVersion}); err != nil {
			return err
		}
		return tx.Audit(ctx, &domain.AuditEvent{ActorID: admin.ID, ActorName: admin.Username, Action: "system.demo_loaded",
			TargetKind: "system", Outcome: domain.OutcomeSuccess, RemoteAddr: "demo",
			Detail: fmt.Sprintf("demo data set loaded: %d users, %d groups, %d projects, %d folders, %d memberships",
				l.res.Users, l.res.Groups, l.res.Projects, l.res.Folders, l.res.Memberships)})
	})
	if err != nil {
		return Result{}, domain.E(op, err)
	}
	l.res.Revision = ch.Revision
	return l.res, nil
}

// loader carries the first error, so build reads as a list of steps.
type loader struct {
	ctx       context.Context
	svc, past *service.Service
	c         domain.Principal
	now       time.Time
	err       error
	res       Result
	users     []string // generated user ids, by index
}

func (l *loader) step(what string, err error) {
	if l.err == nil && err != nil {
		l.err = fmt.Errorf("%s: %w", what, err)
	}
}

// ID returns the fixed id of demo object n: UUID-shaped, in a range of
// its own (docs/demo.md lists the ones worth knowing).
func ID(n int) string { return fmt.Sprintf("0000de00-0000-7000-8000-%012x", n) }

// Fixed ids of the objects the docs and tests name.
var (
	ProjectLungCT   = ID(0x101)
	ProjectLiverMR  = ID(0x102)
	ProjectBrainMR  = ID(0x103)
	ProjectBreastMG = ID(0x104)
	ProjectClinical = ID(0x105)

	GroupRadiologists    = ID(0x201)
	GroupResearch        = ID(0x202)
	GroupProjectCreators = ID(0x203)
	GroupPhotographers   = ID(0x204)
	GroupCardio          = ID(0x205)
	GroupGRT             = ID(0x206)
	GroupPartnerXYZ      = ID(0x207)
	GroupInvestigators   = ID(0x208)
	GroupClinicalMonitor = ID(0x209)
	GroupDataManagers    = ID(0x20a)
	GroupSponsorAuditors = ID(0x20b)
	GroupITOperations    = ID(0x20c)
	GroupSystemAdmins    = ID(0x20d)
	GroupUserManagers    = ID(0x20e)
	GroupHelpDesk        = ID(0x20f)
	GroupChest           = ID(0x210)

	TypeProject  = ID(0x301)
	TypeGRTStudy = ID(0x302)

	FolderImageLibrary = ID(0x401)
	FolderPublic       = ID(0x402)
	FolderStaffPhotos  = ID(0x403)
	FolderAdminOnly    = ID(0x404)
	FolderPublic2024   = ID(0x405)
	FolderPublic2025   = ID(0x406)
	FolderHeartFailure = ID(0x411)
	FolderOncology     = ID(0x412)
	FolderNeurology    = ID(0x413)
	FolderHF101        = ID(0x414)
	FolderGRT001       = ID(0x415)
	FolderGRT002       = ID(0x416)
	FolderONC003       = ID(0x417)
	FolderNEU004       = ID(0x418)

	UserManager     = ID(0x1001)
	UserModerator   = ID(0x1002)
	UserRadiologist = ID(0x1003)
	UserScientist   = ID(0x1004)
	UserUser        = ID(0x1005)
)

// NumGenerated is how many users with generated names the demo has.
const NumGenerated = 300

var firstNames = []string{"aiko", "ben", "chiara", "dmitri", "elif", "farid", "greta", "hiro", "ines", "jonas",
	"kofi", "lena", "mateo", "nadia", "oskar", "priya", "quentin", "rosa", "sven", "tomoko",
	"ugo", "vera", "wei", "ximena", "yusuf", "zofia", "amara", "bruno", "camille", "diego"}

var lastNames = []string{"sato", "muller", "rossi", "novak", "yilmaz", "haddad", "larsen", "okafor", "silva", "kim"}

func title(s string) string { return string(s[0]-'a'+'A') + s[1:] }

func (l *loader) build() {
	l.radiology()
	l.people()
	l.radiologyMembers()
	l.imageLibrary()
	l.trialMasterFile()
	l.clinical()
	l.systemRoles()
}

// radiology is [C] (000): projects, a group with global privileges,
// accessible domains and per-project rights.
func (l *loader) radiology() {
	for _, p := range []domain.Project{
		{ID: ProjectLungCT, Name: "Lung CT screening", Description: "Low-dose chest CT screening cases"},
		{ID: ProjectLiverMR, Name: "Liver MR", Description: "Liver lesion MR series"},
		{ID: ProjectBrainMR, Name: "Brain MR", Description: "Brain MR research cases"},
		{ID: ProjectBreastMG, Name: "Breast MG", Description: "Mammography reading study"},
	} {
		p.MembershipMode = domain.ModeMultiple
		l.project(p)
	}
	l.group(domain.Group{ID: GroupRadiologists, Name: "Radiologists of XYZ hospital", Scope: domain.ScopeSystem,
		Description:       "Reading radiologists: personal information, raw volumes, several projects",
		SystemPermissions: []string{domain.PermPersonalInfoView, domain.PermVolumeDownload}})
	l.domains(GroupRadiologists, "xyz-hosp", "abc-univ")
	l.importInto(GroupRadiologists, ProjectLungCT, ProjectLiverMR, ProjectBrainMR)
	l.groupRights(GroupRadiologists, ProjectLungCT, "", domain.PermProjectRead, domain.PermProjectWrite, domain.PermProjectAddSeries, domain.PermProjectViewPI)
	l.groupRights(GroupRadiologists, ProjectLiverMR, "", domain.PermProjectRead)
	l.groupRights(GroupRadiologists, ProjectBrainMR, "", domain.PermProjectModerate)

	l.group(domain.Group{ID: GroupResearch, Name: "Research assistants", Scope: domain.ScopeSystem,
		Description:          "Read access to the research projects; memberships are time-limited",
		DefaultProjectRoleID: domain.RoleViewerID})
	l.domains(GroupResearch, "abc-univ")
	l.importInto(GroupResearch, ProjectLungCT, ProjectBrainMR, ProjectBreastMG)

	l.group(domain.Group{ID: GroupProjectCreators, Name: "Project creators", Scope: domain.ScopeSystem,
		Description:       "May create and delete projects",
		SystemPermissions: []string{domain.PermProjectCreate, domain.PermProjectDelete}})
}

// people creates the demo logins and the generated users.
func (l *loader) people() {
	for _, u := range []struct {
		id, name, display string
		pw                string
	}{
		{UserManager, "manager", "Mona Manager", "demo-manager"},
		{UserModerator, "moderator", "Moritz Moderator", "demo-moderator"},
		{UserRadiologist, "radiologist", "Rania Radiologist", "demo-radiologist"},
		{UserScientist, "scientist", "Sami Scientist", "demo-scientist"},
		{UserUser, "user", "Uma User", "demo-user"},
	} {
		l.user(service.NewUser{ID: u.id, Username: u.name, DisplayName: u.display, Email: u.name + "@demo.example.org", Password: u.pw})
	}
	l.users = make([]string, NumGenerated)
	for i := range NumGenerated {
		first, last := firstNames[i%len(firstNames)], lastNames[(i/len(firstNames))%len(lastNames)]
		id := ID(0x10000 + i)
		l.users[i] = id
		l.user(service.NewUser{ID: id, Username: first + "." + last, DisplayName: title(first) + " " + title(last),
			Email: first + "." + last + "@demo.example.org"})
		if i%50 == 49 {
			// A few disabled accounts: R11, they hold nothing.
			if l.err == nil {
				_, _, err := l.svc.SetUserStatus(l.ctx, l.c, id, domain.UserDisabled)
				l.step("disable "+first+"."+last, err)
			}
		}
	}
}

func (l *loader) radiologyMembers() {
	l.members(GroupRadiologists, l.span(0, 40, UserRadiologist))
	// Research assistants: five expired ten days ago, five expire in three
	// days, five in a month, the rest never.
	l.membersExpiring(GroupResearch, l.span(40, 45), -10*24*time.Hour)
	l.membersExpiring(GroupResearch, l.span(45, 50), 3*24*time.Hour)
	l.membersExpiring(GroupResearch, l.span(50, 55), 30*24*time.Hour)
	l.members(GroupResearch, l.span(55, 70))
	l.members(GroupProjectCreators, l.span(70, 75))
	l.userRights(UserModerator, ProjectLungCT, domain.RoleModeratorID)
	// Nested groups (issue 20): the chest section's team is a member of
	// Radiologists, so its members are radiologists through it.
	l.group(domain.Group{ID: GroupChest, Name: "Chest radiologists of XYZ", Scope: domain.ScopeSystem,
		Description: "The chest section; a member of Radiologists of XYZ hospital (nested group)"})
	l.members(GroupChest, l.span(200, 210))
	if l.err == nil {
		_, _, err := l.svc.AddGroupMembers(l.ctx, l.c, GroupRadiologists, []service.GroupMemberInput{{GroupID: GroupChest}})
		l.step("nest Chest radiologists in Radiologists", err)
	}
}

// imageLibrary is [Q] (003): a folder tree with levels for
// Administrators, Normal Users (the built-in Everyone, renamed as the
// image server calls it) and Public.
func (l *loader) imageLibrary() {
	if l.err == nil {
		g, err := l.svc.GetGroup(l.ctx, l.c, domain.GroupEveryoneID)
		l.step("read Everyone", err)
		if err == nil {
			name := "Normal Users"
			_, _, err = l.svc.UpdateGroup(l.ctx, l.c, g.ID, service.GroupUpdate{Name: &name, Version: g.Version})
			l.step("rename Everyone to Normal Users", err)
		}
	}
	ft := domain.FolderTypeFolderID
	l.folder(domain.Folder{ID: FolderImageLibrary, Name: "Image library", TypeID: ft})
	l.folder(domain.Folder{ID: FolderPublic, ParentID: FolderImageLibrary, Name: "Public gallery", TypeID: ft})
	l.folder(domain.Folder{ID: FolderPublic2024, ParentID: FolderPublic, Name: "2024", TypeID: ft})
	l.folder(domain.Folder{ID: FolderPublic2025, ParentID: FolderPublic, Name: "2025", TypeID: ft})
	l.folder(domain.Folder{ID: FolderStaffPhotos, ParentID: FolderImageLibrary, Name: "Staff photos", TypeID: ft})
	l.folder(domain.Folder{ID: FolderAdminOnly, ParentID: FolderImageLibrary, Name: "Administration", TypeID: ft})

	l.level(FolderImageLibrary, domain.GroupAdministratorsID, domain.LevelDeleteFolder)
	l.level(FolderImageLibrary, domain.GroupEveryoneID, domain.LevelDownload)
	l.level(FolderPublic, domain.GroupPublicID, domain.LevelView)
	// A nearer entry overrides the inherited one, even "none" (R15).
	l.level(FolderAdminOnly, domain.GroupEveryoneID, domain.LevelNone)

	l.group(domain.Group{ID: GroupPhotographers, Name: "Photographers", Scope: domain.ScopeSystem,
		Description: "Upload images to Staff photos and the public gallery"})
	l.level(FolderStaffPhotos, GroupPhotographers, domain.LevelUpload)
	l.level(FolderPublic, GroupPhotographers, domain.LevelUpload)
	l.members(GroupPhotographers, l.span(75, 85))
}

// trialMasterFile is [S3] (002): folder types with security contexts and
// properties, and group rules whose criteria are joined by AND.
func (l *loader) trialMasterFile() {
	contexts := []string{domain.ContextRoot, "data", "document", "analysis"}
	l.folderType(domain.FolderType{ID: TypeProject, Name: "Project", Contexts: contexts,
		Properties: []string{"therapeutic_area", "description"}})
	l.folderType(domain.FolderType{ID: TypeGRTStudy, Name: "GRT Study", Contexts: contexts,
		Properties: []string{"indication", "portfolio", "description"}})

	l.folder(domain.Folder{ID: FolderHeartFailure, Name: "Heart failure program", TypeID: TypeProject,
		Properties: map[string]string{"therapeutic_area": "Cardiovascular", "description": "HF portfolio"}})
	l.folder(domain.Folder{ID: FolderOncology, Name: "Oncology program", TypeID: TypeProject,
		Properties: map[string]string{"therapeutic_area": "Oncology"}})
	l.folder(domain.Folder{ID: FolderNeurology, Name: "Neurology program", TypeID: TypeProject,
		Properties: map[string]string{"therapeutic_area": "Neurology"}})
	l.folder(domain.Folder{ID: FolderHF101, ParentID: FolderHeartFailure, Name: "HF-101", TypeID: TypeGRTStudy,
		Properties: map[string]string{"indication": "HF", "portfolio": "XYZ"}})
	l.folder(domain.Folder{ID: FolderGRT001, ParentID: FolderOncology, Name: "GRT-001", TypeID: TypeGRTStudy,
		Properties: map[string]string{"indication": "GRT", "portfolio": "ABC", "description": "first-in-human"}})
	l.folder(domain.Folder{ID: FolderGRT002, ParentID: FolderOncology, Name: "GRT-002", TypeID: TypeGRTStudy,
		Properties: map[string]string{"indication": "GRT", "portfolio": "DEF"}})
	l.folder(domain.Folder{ID: FolderONC003, ParentID: FolderOncology, Name: "ONC-003", TypeID: TypeGRTStudy,
		Properties: map[string]string{"indication": "ONC", "portfolio": "ABC"}})
	l.folder(domain.Folder{ID: FolderNEU004, ParentID: FolderNeurology, Name: "NEU-004", TypeID: TypeGRTStudy,
		Properties: map[string]string{"indication": "NEU", "portfolio": "XYZ"}})

	l.group(domain.Group{ID: GroupCardio, Name: "Cardio writers", Scope: domain.ScopeSystem,
		Description: "Read and edit documents of cardiovascular projects"})
	l.rule(domain.Rule{ID: ID(0x501), GroupID: GroupCardio, Name: "Cardiovascular documents",
		Criteria: []domain.Criterion{{FolderTypeID: TypeProject, Property: "therapeutic_area", Operator: domain.OpEq, Value: "Cardiovascular"}},
		Grants:   map[string][]string{"document": {"read", "edit"}}})
	l.group(domain.Group{ID: GroupGRT, Name: "GRT ABC team", Scope: domain.ScopeSystem,
		Description: "The GRT studies of portfolio ABC"})
	l.rule(domain.Rule{ID: ID(0x502), GroupID: GroupGRT, Name: "GRT in ABC",
		Criteria: []domain.Criterion{
			{FolderTypeID: TypeGRTStudy, Property: "indication", Operator: domain.OpEq, Value: "GRT"},
			{FolderTypeID: TypeGRTStudy, Property: "portfolio", Operator: domain.OpEq, Value: "ABC"}},
		Grants: map[string][]string{"data": {"read"}, "document": {"read"}, "analysis": {"read", "create"}}})
	l.group(domain.Group{ID: GroupPartnerXYZ, Name: "External partner XYZ", Scope: domain.ScopeSystem,
		Description: "An external partner's read access to portfolio XYZ, until the contract ends"})
	l.rule(domain.Rule{ID: ID(0x503), GroupID: GroupPartnerXYZ, Name: "Portfolio XYZ documents",
		Criteria: []domain.Criterion{{FolderTypeID: TypeGRTStudy, Property: "portfolio", Operator: domain.OpEq, Value: "XYZ"}},
		Grants:   map[string][]string{"document": {"read"}}})

	l.members(GroupCardio, l.span(85, 100))
	l.members(GroupGRT, l.span(100, 110, UserScientist))
	l.membersExpiring(GroupPartnerXYZ, l.span(110, 113), 14*24*time.Hour)
	l.membersExpiring(GroupPartnerXYZ, l.span(113, 115), -2*24*time.Hour)
}

// clinical is [S2] (001): an exclusive project with project groups and an
// imported system group; each user is in at most one of its groups (R23).
func (l *loader) clinical() {
	l.project(domain.Project{ID: ProjectClinical, Name: "Clinical trial CT-2025", MembershipMode: domain.ModeExclusive,
		Description: "Exclusive membership: each member is in one of its groups"})
	for _, g := range []struct {
		id, name, role string
	}{
		{GroupInvestigators, "Investigators", domain.RoleContributorID},
		{GroupClinicalMonitor, "Clinical monitors", domain.RoleViewerID},
		{GroupDataManagers, "Data managers", domain.RoleEditorID},
	} {
		l.group(domain.Group{ID: g.id, Name: g.name, Scope: domain.ScopeProject, ProjectID: ProjectClinical})
		l.groupRights(g.id, ProjectClinical, g.role)
	}
	l.group(domain.Group{ID: GroupSponsorAuditors, Name: "Sponsor auditors", Scope: domain.ScopeSystem,
		Description: "A system group imported into the clinical trial and Lung CT screening", DefaultProjectRoleID: domain.RoleViewerID})
	l.importInto(GroupSponsorAuditors, ProjectClinical, ProjectLungCT)
	l.userRights(UserModerator, ProjectClinical, domain.RoleModeratorID)

	l.members(GroupInvestigators, l.span(120, 140))
	l.members(GroupClinicalMonitor, l.span(140, 150))
	l.members(GroupDataManagers, l.span(150, 160))
	l.members(GroupSponsorAuditors, l.span(160, 170))
}

// systemRoles is [S5] (004): system groups holding the four predefined
// system roles.
func (l *loader) systemRoles() {
	for _, g := range []struct {
		id, name, role, desc string
	}{
		{GroupITOperations, "IT operations", domain.RoleITAdministratorID, "Full system access, storage included"},
		{GroupSystemAdmins, "System administrators", domain.RoleSystemAdministratorID, "Everything but storage changes"},
		{GroupUserManagers, "User managers", domain.RoleSystemManagerID, "Administer users, groups and projects"},
		{GroupHelpDesk, "Help desk", domain.RoleSystemMemberID, "View users, groups and roles"},
	} {
		l.group(domain.Group{ID: g.id, Name: g.name, Scope: domain.ScopeSystem, SystemRoleID: g.role, Description: g.desc})
	}
	l.members(GroupITOperations, l.span(170, 173))
	l.members(GroupSystemAdmins, l.span(173, 177))
	l.members(GroupUserManagers, l.span(177, 185, UserManager))
	l.members(GroupHelpDesk, l.span(185, 195))
	l.membersExpiring(GroupHelpDesk, l.span(195, 200), 7*24*time.Hour)
}

// span returns generated users [from, to) plus extra ids.
func (l *loader) span(from, to int, extra ...string) []string {
	return append(append([]string(nil), l.users[from:to]...), extra...)
}

func (l *loader) project(p domain.Project) {
	if l.err != nil {
		return
	}
	_, _, err := l.svc.CreateProject(l.ctx, l.c, p)
	l.step("project "+p.Name, err)
	l.res.Projects++
}

func (l *loader) group(g domain.Group) {
	if l.err != nil {
		return
	}
	_, _, err := l.svc.CreateGroup(l.ctx, l.c, g)
	l.step("group "+g.Name, err)
	l.res.Groups++
}

func (l *loader) domains(groupID string, ds ...string) {
	if l.err != nil {
		return
	}
	_, _, err := l.svc.SetGroupDomains(l.ctx, l.c, groupID, ds)
	l.step("domains of "+groupID, err)
}

func (l *loader) importInto(groupID string, projectIDs ...string) {
	if l.err != nil {
		return
	}
	_, _, err := l.svc.ImportGroup(l.ctx, l.c, groupID, projectIDs)
	l.step("import "+groupID, err)
}

func (l *loader) groupRights(groupID, projectID, roleID string, keys ...string) {
	if l.err != nil {
		return
	}
	_, _, err := l.svc.SetGroupProjectRights(l.ctx, l.c, groupID, projectID, roleID, keys)
	l.step("rights of "+groupID+" on "+projectID, err)
}

func (l *loader) userRights(userID, projectID, roleID string) {
	if l.err != nil {
		return
	}
	_, _, err := l.svc.SetUserProjectRights(l.ctx, l.c, userID, projectID, roleID, nil)
	l.step("rights of "+userID+" on "+projectID, err)
}

func (l *loader) user(u service.NewUser) {
	if l.err != nil {
		return
	}
	u.Source = domain.SourceLocal
	_, _, err := l.svc.CreateUser(l.ctx, l.c, u)
	l.step("user "+u.Username, err)
	l.res.Users++
}

func (l *loader) members(groupID string, ids []string) {
	if l.err != nil {
		return
	}
	in := make([]service.MemberInput, len(ids))
	for i, id := range ids {
		in[i] = service.MemberInput{UserID: id}
	}
	_, _, err := l.svc.AddMembers(l.ctx, l.c, groupID, in)
	l.step("members of "+groupID, err)
	l.res.Memberships += len(ids)
}

// membersExpiring adds memberships that end d from now; a negative d
// means they have already ended.
func (l *loader) membersExpiring(groupID string, ids []string, d time.Duration) {
	if l.err != nil {
		return
	}
	svc := l.svc
	if d < 0 {
		svc = l.past
	}
	until := l.now.Add(d)
	in := make([]service.MemberInput, len(ids))
	for i, id := range ids {
		in[i] = service.MemberInput{UserID: id, ExpiresAt: &until}
	}
	_, _, err := svc.AddMembers(l.ctx, l.c, groupID, in)
	l.step("expiring members of "+groupID, err)
	l.res.Memberships += len(ids)
}

func (l *loader) folderType(t domain.FolderType) {
	if l.err != nil {
		return
	}
	_, _, err := l.svc.CreateFolderType(l.ctx, l.c, t)
	l.step("folder type "+t.Name, err)
}

func (l *loader) folder(f domain.Folder) {
	if l.err != nil {
		return
	}
	_, _, err := l.svc.CreateFolder(l.ctx, l.c, f)
	l.step("folder "+f.Name, err)
	l.res.Folders++
}

func (l *loader) level(folderID, groupID string, lv domain.Level) {
	if l.err != nil {
		return
	}
	_, _, err := l.svc.SetFolderLevel(l.ctx, l.c, folderID, groupID, lv)
	l.step("level on "+folderID, err)
}

func (l *loader) rule(r domain.Rule) {
	if l.err != nil {
		return
	}
	_, _, err := l.svc.CreateRule(l.ctx, l.c, r)
	l.step("rule "+r.Name, err)
}
