// Ferry's search attributes, set on every run so the Temporal UI can filter by command, object and zone.
import { defineSearchAttributeKey, SearchAttributeType } from '@temporalio/common';

export const FerryCommand = defineSearchAttributeKey('FerryCommand', SearchAttributeType.KEYWORD);
export const FerryObjectType = defineSearchAttributeKey('FerryObjectType', SearchAttributeType.KEYWORD);
export const FerryObjectId = defineSearchAttributeKey('FerryObjectId', SearchAttributeType.KEYWORD);
export const FerryZone = defineSearchAttributeKey('FerryZone', SearchAttributeType.KEYWORD);
