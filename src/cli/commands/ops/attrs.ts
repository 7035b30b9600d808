// `kmip attrs get|list|add|set|modify|delete`: the attribute operations (KMIP 2.1 §6.1.2,
// §6.1.23, §6.1.25, §6.1.30, §6.1.14, §6.1.49). Values are typed by the attribute's item type.

import type { Argv, CommandModule } from 'yargs';
import { attributeNameArg } from '../../../client/attributes.js';
import { attributeFromText } from './attribute-args.js';
import {
  type CommonArgs,
  printFields,
  printJson,
  printTable,
  uidPositional,
  withClient,
} from './common.js';

interface GetArgs extends CommonArgs {
  uid: string;
  names: string[] | undefined;
}

const get: CommandModule<object, GetArgs> = {
  command: 'get <uid> [names..]',
  describe: 'Show attributes of an object (all, or the NAMES given)',
  builder: (y: Argv) =>
    uidPositional(y)
      .positional('names', {
        type: 'string',
        array: true,
        describe: "attribute names: 'Object Group', ObjectGroup, objectGroup or x-custom",
      })
      .example('$0 attrs get 6f1c… State "Cryptographic Algorithm"', ''),
  handler: withClient<GetArgs>(async (client, args) => {
    const { values } = await client.getAttributes(args.uid, args.names);
    if (args.json) printJson(values);
    else printTable([['ATTRIBUTE', 'VALUE'], ...Object.entries(values)]);
  }),
};

interface UidArgs extends CommonArgs {
  uid: string;
}

const list: CommandModule<object, UidArgs> = {
  command: 'list <uid>',
  describe: 'List the names of the attributes an object has',
  builder: (y: Argv) => uidPositional(y),
  handler: withClient<UidArgs>(async (client, args) => {
    const { names } = await client.getAttributeList(args.uid);
    if (args.json) printJson(names);
    else process.stdout.write(`${names.join('\n')}\n`);
  }),
};

interface EditArgs extends CommonArgs {
  uid: string;
  name: string;
  value: string;
  index?: number;
}

const editBuilder = (y: Argv) =>
  uidPositional(y)
    .positional('name', {
      type: 'string',
      demandOption: true,
      describe: "attribute name: 'Object Group', objectGroup, x-custom, …",
    })
    .positional('value', {
      type: 'string',
      demandOption: true,
      describe:
        'value: enumeration names, masks as comma lists, dates in ISO 8601 (or now), bytes in hex',
    });

function edited(args: EditArgs, what: string) {
  if (args.json) printJson({ uid: args.uid, attribute: attributeNameArg(args.name) });
  else printFields({ [what]: `${attributeNameArg(args.name)} on ${args.uid}` });
}

const add: CommandModule<object, EditArgs> = {
  command: 'add <uid> <name> <value>',
  describe: 'Add an attribute, or a further instance of a multi-instance one',
  builder: (y: Argv) => editBuilder(y).example('$0 attrs add 6f1c… x-owner alice', ''),
  handler: withClient<EditArgs>(async (client, args) => {
    await client.addAttribute(args.uid, attributeFromText(args.name, args.value));
    edited(args, 'added');
  }),
};

const set: CommandModule<object, EditArgs> = {
  command: 'set <uid> <name> <value>',
  describe: 'Set a single-instance attribute, replacing its value (KMIP 2.0+)',
  builder: (y: Argv) => editBuilder(y).example('$0 attrs set 6f1c… contactInformation ops', ''),
  handler: withClient<EditArgs>(async (client, args) => {
    await client.setAttribute(args.uid, attributeFromText(args.name, args.value));
    edited(args, 'set');
  }),
};

const modify: CommandModule<object, EditArgs> = {
  command: 'modify <uid> <name> <value>',
  describe: 'Change the value of an attribute the object has',
  builder: (y: Argv) =>
    editBuilder(y)
      .option('index', {
        type: 'number',
        describe: 'KMIP 1.x: Attribute Index of the instance to change (default 0)',
      })
      .example('$0 attrs modify 6f1c… x-owner bob', ''),
  handler: withClient<EditArgs>(async (client, args) => {
    await client.modifyAttribute(args.uid, attributeFromText(args.name, args.value), {
      index: args.index,
    });
    edited(args, 'modified');
  }),
};

interface DeleteArgs extends CommonArgs {
  uid: string;
  name: string;
  index: number | undefined;
}

const del: CommandModule<object, DeleteArgs> = {
  command: 'delete <uid> <name>',
  describe: 'Delete an attribute',
  builder: (y: Argv) =>
    uidPositional(y)
      .positional('name', { type: 'string', demandOption: true, describe: 'attribute name' })
      .option('index', {
        type: 'number',
        describe: 'KMIP 1.x: Attribute Index of the instance to delete (default 0)',
      })
      .example('$0 attrs delete 6f1c… x-owner', ''),
  handler: withClient<DeleteArgs>(async (client, args) => {
    await client.deleteAttribute(args.uid, args.name, { index: args.index });
    if (args.json) printJson({ uid: args.uid, attribute: attributeNameArg(args.name) });
    else printFields({ deleted: `${attributeNameArg(args.name)} on ${args.uid}` });
  }),
};

export const attrsCommand: CommandModule = {
  command: 'attrs <command>',
  describe: 'Read and change the attributes of an object',
  builder: (y: Argv) =>
    y
      .command(get as unknown as CommandModule)
      .command(list as unknown as CommandModule)
      .command(add as unknown as CommandModule)
      .command(set as unknown as CommandModule)
      .command(modify as unknown as CommandModule)
      .command(del as unknown as CommandModule)
      .demandCommand(1, 'name an attrs command: get, list, add, set, modify or delete'),
  handler: () => {},
};
