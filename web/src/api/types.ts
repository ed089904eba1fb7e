// The client's names for the server's types. Everything here is generated from the server's
// contract (`npm run gen`): if the server renames or drops a field, the build fails here or
// where the field is used, never in production.

import type * as Events from './generated/events';
import type { components } from './generated/openapi';

export type Schemas = components['schemas'];

export type User = Schemas['UserOut'];
export type AuthResult = Schemas['AuthOut'];
export type Org = Schemas['OrgOut'];
export type OrgRole = Org['role'];
export type OrgMember = Schemas['MemberOut'];
export type OrgMemberPage = Schemas['OrgMemberPage'];
export type Department = Schemas['DepartmentOut'];
export type Invite = Schemas['InviteOut'];
export type InvitePreview = Schemas['InvitePreview'];
export type InviteAccepted = Schemas['InviteAccepted'];
export type Message = Schemas['MessageOut'];
export type MessagePage = Schemas['MessagePage'];
export type Conversation = Schemas['ConversationOut'];
export type ConversationPage = Schemas['ConversationPage'];
export type ConversationKind = Conversation['kind'];
export type ConversationMember = Schemas['ConversationMemberOut'];
export type ConversationMemberPage = Schemas['ConversationMemberPage'];
export type Receipts = Schemas['MessageReceiptsOut'];

export type Media = Schemas['MediaOut'];
export type ReceiptRange = Events.ReceiptRange;
/** A message as frames carry it: every field present (assignable to Message). */
export type FrameMessage = Events.MessageOut;
export type FrameConversation = Events.ConversationOut;

/** Every frame the server may send on the WebSocket. */
export type ServerFrame = Events.KnockFrames;
/** Frames that carry no state: connection control. */
export type ControlFrame = Events.Ready | Events.ResyncRequired | Events.Ping | Events.Pong;
/** Frames that change state; each carries the cursor to resume after it. */
export type ServerEvent = Exclude<ServerFrame, ControlFrame>;
