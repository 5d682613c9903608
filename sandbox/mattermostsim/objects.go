package mattermostsim

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// builtinTriggers are the system slash commands: listed (with an empty id)
// when custom_only is not set, and not available as custom triggers.
var builtinTriggers = []string{
	"away", "code", "collapse", "dnd", "echo", "expand", "groupmsg", "header", "help", "invite",
	"invite_people", "join", "kick", "leave", "logout", "me", "msg", "mute", "offline", "online",
	"open", "purpose", "remove", "rename", "search", "settings", "shortcuts", "shrug",
}

var builtinSet = func() map[string]bool {
	m := map[string]bool{}
	for _, t := range builtinTriggers {
		m[t] = true
	}
	return m
}()

func validHTTPURL(raw string) bool {
	u, err := url.Parse(raw)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// createCommand is POST /commands (201).
func (c *ctx) createCommand() {
	s := c.s
	var in command
	if err := json.Unmarshal(c.body(), &in); err != nil {
		c.invalidBodyParam("command")
		return
	}
	if !c.canTeam(in.TeamID, permManageOwnSlashCommands) {
		c.permissionDenied()
		return
	}
	if in.CreatorID == "" {
		in.CreatorID = c.user.ID
	} else if in.CreatorID != c.user.ID {
		if !c.canTeam(in.TeamID, permManageOthersSlashCommands) {
			c.permissionDenied()
			return
		}
		if s.users[in.CreatorID] == nil {
			c.userNotFound()
			return
		}
	}
	if !s.settings.EnableCommands {
		c.fail(501, "api.command.disabled.app_error", "Commands have been disabled by the system admin.")
		return
	}
	in.Trigger = strings.ToLower(in.Trigger)
	if s.triggers[in.TeamID+"/"+in.Trigger] || builtinSet[in.Trigger] {
		c.fail(400, "api.command.duplicate_trigger.app_error", "This trigger word is already in use. Please choose another word.")
		return
	}
	switch {
	case !validID(in.TeamID):
		c.fail(400, "model.command.is_valid.team_id.app_error", "Invalid team ID.")
		return
	case in.Trigger == "" || len(in.Trigger) > 128 || strings.HasPrefix(in.Trigger, "/") || strings.ContainsAny(in.Trigger, " \t\n"):
		c.fail(400, "model.command.is_valid.trigger.app_error", "Invalid trigger.")
		return
	case !validHTTPURL(in.URL):
		c.fail(400, "model.command.is_valid.url.app_error", "Invalid URL.")
		return
	case in.Method != "P" && in.Method != "G":
		c.fail(400, "model.command.is_valid.method.app_error", "Invalid Method.")
		return
	}
	now := millis(s.now())
	in.ID, in.Token, in.CreateAt, in.UpdateAt, in.DeleteAt, in.PluginID = newID(), newID(), now, now, 0, ""
	cmd := in
	s.addCommand(&cmd)
	c.reply(http.StatusCreated, cmd)
}

// listCommands is GET /commands?team_id=&custom_only=.
func (c *ctx) listCommands() {
	s := c.s
	q := c.r.URL.Query()
	teamID := q.Get("team_id")
	if teamID == "" {
		c.invalidBodyParam("team_id")
		return
	}
	if !c.canTeam(teamID, permViewTeam) {
		c.permissionDenied()
		return
	}
	customOnly, _ := strconv.ParseBool(q.Get("custom_only"))
	manage := c.canTeam(teamID, permManageOwnSlashCommands)
	if customOnly && !manage {
		c.permissionDenied()
		return
	}
	if !s.settings.EnableCommands {
		c.fail(501, "api.command.disabled.app_error", "Commands have been disabled by the system admin.")
		return
	}
	out := []command{}
	if !customOnly {
		for _, t := range builtinTriggers {
			out = append(out, command{Trigger: t, AutoComplete: true, DisplayName: t, Method: "P"})
		}
	}
	if manage {
		others := c.canTeam(teamID, permManageOthersSlashCommands)
		for _, cmd := range s.teamCommands[teamID] {
			if others || cmd.CreatorID == c.user.ID {
				out = append(out, *cmd)
			}
		}
	}
	c.ok(out)
}

// commandFor finds a command the session may manage, answering 404 (never
// 403: the server hides which commands exist) when not.
func (c *ctx) commandFor() *command {
	id := c.idParam("command_id")
	if id == "" {
		return nil
	}
	cmd := c.s.commands[id]
	if cmd == nil || !c.s.settings.EnableCommands ||
		!c.canTeam(cmd.TeamID, permViewTeam) ||
		!c.canTeam(cmd.TeamID, permManageOwnSlashCommands) ||
		(cmd.CreatorID != c.user.ID && !c.canTeam(cmd.TeamID, permManageOthersSlashCommands)) {
		c.commandNotFound()
		return nil
	}
	return cmd
}

func (c *ctx) getCommand() {
	if cmd := c.commandFor(); cmd != nil {
		c.ok(*cmd)
	}
}

// regenCommandToken is PUT /commands/{id}/regen_token; it answers only
// {"token": new}.
func (c *ctx) regenCommandToken() {
	cmd := c.commandFor()
	if cmd == nil {
		return
	}
	cmd.Token = newID()
	cmd.UpdateAt = millis(c.s.now())
	c.s.env.Ledger.Record(Service, KindCommand, cmd.ID, cmd.Token)
	c.ok(map[string]string{"token": cmd.Token})
}

func (c *ctx) hooksDisabled() bool {
	if c.s.settings.EnableOutgoingWebhooks {
		return false
	}
	c.fail(501, "api.outgoing_webhook.disabled.app_error", "Outgoing webhooks have been disabled by the system admin.")
	return true
}

// createHook is POST /hooks/outgoing (201).
func (c *ctx) createHook() {
	s := c.s
	var in outgoingHook
	if err := json.Unmarshal(c.body(), &in); err != nil {
		c.invalidBodyParam("outgoing_webhook")
		return
	}
	if in.CreatorID == "" {
		in.CreatorID = c.user.ID
	} else if in.CreatorID != c.user.ID && !c.canTeam(in.TeamID, permManageOthersOutgoingWebhook) {
		c.permissionDenied()
		return
	}
	if !c.canTeam(in.TeamID, permManageOwnOutgoingWebhooks) {
		c.permissionDenied()
		return
	}
	if c.hooksDisabled() {
		return
	}
	if in.ChannelID != "" {
		ch := s.channels[in.ChannelID]
		if ch == nil || ch.TeamID != in.TeamID {
			c.fail(404, "app.channel.get.existing.app_error", "Unable to find the existing channel.")
			return
		}
	}
	if len(in.TriggerWords) == 0 && in.ChannelID == "" {
		c.fail(400, "api.webhooks.create_outgoing.triggers.app_error", "Either trigger_words or channel_id must be set")
		return
	}
	if !validID(in.TeamID) {
		c.fail(400, "model.outgoing_hook.is_valid.team_id.app_error", "Invalid team ID.")
		return
	}
	if len(in.CallbackURLs) == 0 {
		c.fail(400, "model.outgoing_hook.is_valid.callback.app_error", "Invalid callback urls.")
		return
	}
	for _, u := range in.CallbackURLs {
		if !validHTTPURL(u) {
			c.fail(400, "model.outgoing_hook.is_valid.callback.app_error", "Invalid callback urls.")
			return
		}
	}
	if in.TriggerWhen != 0 && in.TriggerWhen != 1 {
		c.fail(400, "model.outgoing_hook.is_valid.trigger_when.app_error", "Invalid trigger when.")
		return
	}
	if in.TriggerWords == nil {
		in.TriggerWords = []string{}
	}
	now := millis(s.now())
	in.ID, in.Token, in.CreateAt, in.UpdateAt, in.DeleteAt = newID(), newID(), now, now, 0
	h := in
	s.addHook(&h)
	c.reply(http.StatusCreated, h)
}

// listHooks is GET /hooks/outgoing?team_id=|channel_id=&page=&per_page=.
func (c *ctx) listHooks() {
	s := c.s
	q := c.r.URL.Query()
	page, perPage := c.paging()
	channelID, teamID := q.Get("channel_id"), q.Get("team_id")
	var from []*outgoingHook
	var others bool
	switch {
	case channelID != "":
		ch := s.channels[channelID]
		if ch == nil || !c.canTeam(ch.TeamID, permManageOwnOutgoingWebhooks) {
			c.permissionDenied()
			return
		}
		others = c.canTeam(ch.TeamID, permManageOthersOutgoingWebhook)
		for _, h := range s.teamHooks[ch.TeamID] {
			if h.ChannelID == channelID {
				from = append(from, h)
			}
		}
	case teamID != "":
		if !c.canTeam(teamID, permManageOwnOutgoingWebhooks) {
			c.permissionDenied()
			return
		}
		others = c.canTeam(teamID, permManageOthersOutgoingWebhook)
		from = s.teamHooks[teamID]
	default:
		if !c.can(permManageSystem) {
			c.permissionDenied()
			return
		}
		others = true
		from = s.hookOrder
	}
	if c.hooksDisabled() {
		return
	}
	var mine []*outgoingHook
	if others {
		mine = from
	} else {
		for _, h := range from {
			if h.CreatorID == c.user.ID {
				mine = append(mine, h)
			}
		}
	}
	out := []outgoingHook{}
	for _, h := range pageOf(mine, page, perPage) {
		out = append(out, *h)
	}
	c.ok(out)
}

// hookFor finds a hook the session may manage: 404 when there is none, 403
// without the permission.
func (c *ctx) hookFor() *outgoingHook {
	id := c.idParam("hook_id")
	if id == "" || c.hooksDisabled() {
		return nil
	}
	h := c.s.hooks[id]
	if h == nil {
		c.fail(404, "app.webhooks.get_outgoing.app_error", "Unable to get the webhook.")
		return nil
	}
	if (h.CreatorID != c.user.ID && !c.canTeam(h.TeamID, permManageOthersOutgoingWebhook)) ||
		!c.canTeam(h.TeamID, permManageOwnOutgoingWebhooks) {
		c.permissionDenied()
		return nil
	}
	return h
}

func (c *ctx) getHook() {
	if h := c.hookFor(); h != nil {
		c.ok(*h)
	}
}

// regenHookToken is POST /hooks/outgoing/{id}/regen_token; it answers the
// whole hook.
func (c *ctx) regenHookToken() {
	h := c.hookFor()
	if h == nil {
		return
	}
	h.Token = newID()
	h.UpdateAt = millis(c.s.now())
	c.s.env.Ledger.Record(Service, KindWebhook, h.ID, h.Token)
	c.ok(*h)
}
