package mattermost

// Bodies recorded from a Mattermost 11.2 server
// (../shared/api/mattermost-exchanges). Where the recording cut a body
// short, it is completed with the fields the recording lists.

const fxUserAdmin = `{"id":"9rrsftoh7b89jmo3pzjy3jftky","create_at":1795435638446,"update_at":1795435678706,"delete_at":0,"username":"admin","auth_service":"","email":"admin@example.com","email_verified":true,"nickname":"","first_name":"","last_name":"","position":"","roles":"system_user system_admin","notify_props":{"channel":"true","comments":"never","desktop":"mention","desktop_sound":"true","desktop_threads":"all","email":"true","email_threads":"all","first_name":"false","mention_keys":"","push":"mention","push_status":"online","push_threads":"all"},"last_password_update":1795435638446,"failed_attempts":4,"locale":"en","timezone":{"automaticTimezone":"","manualTimezone":"","useAutomaticTimezone":"true"},"mfa_active":true,"disable_welcome_email":false,"remote_id":""}`

const fxUserNoMFA = `{"id":"9rrsftoh7b89jmo3pzjy3jftky","create_at":1795435638446,"update_at":1795435641461,"delete_at":0,"username":"admin","auth_service":"","email":"admin@example.com","email_verified":true,"nickname":"","first_name":"","last_name":"","position":"","roles":"system_user system_admin","notify_props":{"channel":"true"},"last_password_update":1795435638446,"locale":"en","timezone":{"automaticTimezone":"","manualTimezone":"","useAutomaticTimezone":"true"},"disable_welcome_email":false,"remote_id":""}`

const fxTeams = `[{"id":"57catpyyyjnapdfnfe414y934o","create_at":1795435638701,"update_at":1795435638701,"delete_at":0,"display_name":"QA","name":"qa","description":"","email":"","type":"O","company_name":"","allowed_domains":"","invite_id":"8ihe6zog6tfxdmkybuwubw1mco","allow_open_invite":false,"scheme_id":null,"group_constrained":null,"policy_id":null,"cloud_limits_archived":false}]`

const fxCommand = `{"id":"w483xexf3j88bc7pupqfqhd7sr","token":"7np66pejm7d13cofkoras91q5h","create_at":1795435737657,"update_at":1795435737663,"delete_at":0,"creator_id":"9rrsftoh7b89jmo3pzjy3jftky","team_id":"57catpyyyjnapdfnfe414y934o","trigger":"rotate","method":"P","username":"","icon_url":"","auto_complete":false,"auto_complete_desc":"","auto_complete_hint":"","display_name":"Rotate","description":"d","url":"http://127.0.0.1:9/hook","plugin_id":""}`

const fxCommands = `[{"id":"zfgk1odei3nizft6qs4qr4rq4c","token":"ytfyczp553yjtqu3po8d4q3h5r","create_at":1795435641579,"update_at":1795435641697,"delete_at":0,"creator_id":"9rrsftoh7b89jmo3pzjy3jftky","team_id":"57catpyyyjnapdfnfe414y934o","trigger":"smoke17501","method":"P","username":"","icon_url":"","auto_complete":false,"auto_complete_desc":"","auto_complete_hint":"","display_name":"smoke","description":"","url":"http://127.0.0.1:9/x","plugin_id":""},` + fxCommand + `]`

const fxRegenCommand = `{"token":"7np66pejm7d13cofkoras91q5h"}`

const fxHook = `{"id":"7qxtco1cxtgtbb564ommhfd1co","token":"7bfnxnafridg9f7nbscka1a1ro","create_at":1795435737728,"update_at":1795435737731,"delete_at":0,"creator_id":"9rrsftoh7b89jmo3pzjy3jftky","channel_id":"fg9amsre3jd4ur46dbsnhcnryr","team_id":"57catpyyyjnapdfnfe414y934o","trigger_words":["deploy"],"trigger_when":0,"callback_urls":["http://127.0.0.1:9/cb"],"display_name":"out","description":"","content_type":"application/json","username":"","icon_url":""}`

const fxHooks = `[` + fxHook + `]`

const fxPATCreated = `{"id":"a9k5ewds4f84jfoj7tdewecc3w","token":"71szbxp1c7nnpkdw6zrfiy8eoe","user_id":"9rrsftoh7b89jmo3pzjy3jftky","description":"rotation-1","is_active":true}`

const fxPATs = `[{"id":"rx3qb3u1jjys3m65wpb5g7gypy","user_id":"9rrsftoh7b89jmo3pzjy3jftky","description":"smoke","is_active":true},{"id":"jmtsmebikfbgmxndit7r19sqkr","user_id":"9rrsftoh7b89jmo3pzjy3jftky","description":"csrf-test2","is_active":true}]`

const fxPAT = `{"id":"a9k5ewds4f84jfoj7tdewecc3w","user_id":"9rrsftoh7b89jmo3pzjy3jftky","description":"rotation-1","is_active":true}`

const fxPATDisabled = `{"id":"a9k5ewds4f84jfoj7tdewecc3w","user_id":"9rrsftoh7b89jmo3pzjy3jftky","description":"rotation-1","is_active":false}`

const fxStatusOK = `{"status":"OK"}`

const fxMFASecret = "NNBGKJZQLIF6IVTTDANEOV6YJOZZPMTA"

// Error answers.
const (
	fxErrBadPassword   = `{"id":"api.user.login.invalid_credentials_email_username","message":"Enter a valid email or username and/or password.","detailed_error":"","request_id":"xqmywzzayjrq5cdxdqekrjmuuy","status_code":401}`
	fxErrBlankPassword = `{"id":"api.user.login.blank_pwd.app_error","message":"Password field must not be blank","detailed_error":"","request_id":"ht6wnntsqjnjxgwtgsa3ippegh","status_code":400}`
	fxErrMFARequired   = `{"id":"mfa.validate_token.authenticate.app_error","message":"Invalid MFA token.","detailed_error":"","request_id":"isb1338tnbfuiymqk591zeh4za","status_code":401}`
	fxErrMFABadCode    = `{"id":"api.user.check_user_mfa.bad_code.app_error","message":"Invalid MFA token.","detailed_error":"","request_id":"xopkwtho5tr558uyhccpqp4pme","status_code":401}`
	fxErrLocked        = `{"id":"api.user.check_user_login_attempts.too_many.app_error","message":"Your account is locked because of too many failed password attempts. Please reset your password.","detailed_error":"","request_id":"b4ncdxeyjjbxfxq3c6qzrnmfry","status_code":401}`
	fxErrSession       = `{"id":"api.context.session_expired.app_error","message":"Invalid or expired session, please login again.","detailed_error":"","request_id":"towmt6rgofde9jxmopuq6zqzxh","status_code":401}`
	fxErrTokenInQuery  = `{"id":"api.context.token_provided.app_error","message":"Session is not OAuth but token was provided in the query string.","detailed_error":"","request_id":"af4k7ixwjbbpfqfan9zous3eue","status_code":401}`
	fxErrActivateBad   = `{"id":"mfa.activate.bad_token.app_error","message":"Invalid MFA token.","detailed_error":"","request_id":"ukx3zkf36t8bjfb9mhndrgm75r","status_code":401}`
	fxErrMissingCode   = `{"id":"api.context.invalid_body_param.app_error","message":"Invalid or missing code in request body.","detailed_error":"","request_id":"j6jn76zipbgh3kktyrmxiz1uie","status_code":400}`
	fxErrMFADisabled   = `{"id":"mfa.mfa_disabled.app_error","message":"Multi-factor authentication has been disabled on this server.","detailed_error":"","request_id":"p5yqk4mzcbbqmrhwwg9bzn4o6e","status_code":501}`
	fxErrNoUser        = `{"id":"app.user.missing_account.const","message":"Unable to find the user.","detailed_error":"","request_id":"gpqzp6xwnfyzffa3g8a5otb8mc","status_code":404}`
	fxErrBadUserID     = `{"id":"api.context.invalid_url_param.app_error","message":"Invalid or missing user_id parameter in request URL.","detailed_error":"","request_id":"gdb7jyz9ejreicm3n6dc1e6czr","status_code":400}`
	fxErrPermission    = `{"id":"api.context.permissions.app_error","message":"You do not have the appropriate permissions.","detailed_error":"","request_id":"o31c8x571fgyjc11jsig3mf4ba","status_code":403}`
	fxErrNoCommand     = `{"id":"store.sql_command.save.get.app_error","message":"Unable to get the command.","detailed_error":"","request_id":"mnx43rcpntyfxmxn6iw1unbbsy","status_code":404}`
	fxErrNoTeamID      = `{"id":"api.context.invalid_body_param.app_error","message":"Invalid or missing team_id in request body.","detailed_error":"","request_id":"8pfh76b387rw5cixt4q1dmzrbc","status_code":400}`
	fxErrCmdsDisabled  = `{"id":"api.command.disabled.app_error","message":"Commands have been disabled by the system admin.","detailed_error":"","request_id":"8ys1zp6tcpgy8xq6dcbe9gb4ma","status_code":501}`
	fxErrNoHook        = `{"id":"app.webhooks.get_outgoing.app_error","message":"Unable to get the webhook.","detailed_error":"","request_id":"b8c9dw83yjgodffc1dh5pkp9ny","status_code":404}`
	fxErrHooksDisabled = `{"id":"api.outgoing_webhook.disabled.app_error","message":"Outgoing webhooks have been disabled by the system admin.","detailed_error":"","request_id":"4m1x9dk3cjfr8ggxdd6ssuyt5w","status_code":501}`
	fxErrNoToken       = `{"id":"app.user_access_token.get_by_user.app_error","message":"Unable to get the personal access tokens by user.","detailed_error":"","request_id":"mfryyyidqpyp3yfpgo7ndk7epa","status_code":404}`
	fxErrTokensOff     = `{"id":"app.user_access_token.disabled","message":"Personal access tokens are disabled on this server. Please contact your system administrator for details.","detailed_error":"","request_id":"9gq7kjq1nbbw9pmsfjuhqckr3r","status_code":501}`
	fxErrNoDescription = `{"id":"api.context.invalid_body_param.app_error","message":"Invalid or missing description in request body.","detailed_error":"","request_id":"uj66j6sf67fddgbrfnoroidoky","status_code":400}`
	fxErrRoute404      = `{"id":"api.context.404.app_error","message":"Sorry, we could not find the page.","detailed_error":"There doesn't appear to be an api call for the url='/api/v4/commands/w483xexf3j88bc7pupqfqhd7sr/regen_token'.  Typo? are you missing a team_id or user_id as part of the url?","status_code":404}`
)
